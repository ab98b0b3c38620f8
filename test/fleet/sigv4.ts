// Checks an AWS Signature Version 4 the way AWS does, for the ELBv2 stand-in: the request must be
// signed with the test's secret key, for the service and a region, so a test proves the SDK took
// the credentials (and the session token) from the environment the action was given.
import { createHash, createHmac } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex')
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

/** Why the request's signature is refused, or undefined when it is right. */
export function signatureProblem(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: string },
  credentials: Credentials,
  service: string
): string | undefined {
  const header = String(request.headers.authorization ?? '')
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      header
    )
  if (!match) return 'Authorization header missing or not AWS4-HMAC-SHA256'
  const [, keyId, date, region, signedService, signedHeaders, signature] = match
  if (keyId !== credentials.accessKeyId) return `unknown access key ${keyId}`
  if (signedService !== service) return `signed for service ${signedService}`
  const token = request.headers['x-amz-security-token']
  if (credentials.sessionToken !== undefined && token !== credentials.sessionToken)
    return 'wrong or missing session token'
  const amzDate = String(request.headers['x-amz-date'] ?? '')
  if (!amzDate.startsWith(date)) return 'X-Amz-Date does not match the credential scope'
  const names = signedHeaders.split(';')
  if (!names.includes('host') || (token !== undefined && !names.includes('x-amz-security-token')))
    return 'host (and the session token) must be signed'
  const canonicalHeaders = names.map(
    (name) =>
      `${name}:${String(request.headers[name] ?? '')
        .trim()
        .replace(/\s+/g, ' ')}\n`
  )
  const [path, query = ''] = request.path.split('?')
  const canonicalRequest = [
    request.method,
    path,
    query,
    canonicalHeaders.join(''),
    signedHeaders,
    sha256(request.body)
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service), 'aws4_request')
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex')
  return expected === signature
    ? undefined
    : 'The request signature we calculated does not match the signature you provided'
}

/** The region a request was signed for (from its credential scope). */
export const signedRegion = (headers: IncomingHttpHeaders): string | undefined =>
  /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1]
