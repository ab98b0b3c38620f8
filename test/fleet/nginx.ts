// One nginx per host, as in the seed: it serves the load balancer's health file
// (/nginx-status.html from HOST_ROOT/status) and proxies everything else to the host's app.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaemon, type Daemon } from './daemon.js'
import type { SshHost } from './ssh-hosts.js'

export function nginxConfig(host: SshHost, webPort: number, appPort: number, workerUser: string | undefined): string {
  const dir = join(host.root, 'nginx')
  return `daemon off;
master_process on;
worker_processes 1;
${workerUser ? `user ${workerUser};` : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${host.address}:${webPort};
    location = /nginx-status.html {
      root ${host.root}/status;
    }
    location / {
      proxy_pass http://${host.address}:${appPort};
    }
  }
}
`
}

export async function startNginx(host: SshHost, webPort: number, appPort: number, user: string): Promise<Daemon> {
  const dir = join(host.root, 'nginx')
  mkdirSync(dir, { recursive: true })
  const root = process.getuid?.() === 0
  if (root) execFileSync('chown', ['-R', user, dir])
  const config = join(dir, 'nginx.conf')
  writeFileSync(config, nginxConfig(host, webPort, appPort, root ? user : undefined))
  return startDaemon(
    `nginx on ${host.name}`,
    '/usr/sbin/nginx',
    ['-p', dir, '-c', config, '-e', join(dir, 'error.log')],
    {
      address: host.address,
      port: webPort
    }
  )
}
