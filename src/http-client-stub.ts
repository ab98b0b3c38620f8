// Bundled in place of @actions/http-client (see tsconfig.json `paths`). @actions/core imports it
// only for getIDToken (OIDC), which this action never calls; the real client brings undici 6,
// about 1 MB of bundle that every run would parse at start-up.
const unused = (): never => {
  throw new Error('@actions/http-client is not bundled: this action does not request OIDC tokens')
}

export class HttpClient {
  constructor() {
    unused()
  }
}

export class BearerCredentialHandler {
  constructor() {
    unused()
  }
}
