import { Agent, request } from 'node:http';

/** Kept-alive connections: the story is about the services' time, not TCP handshakes. */
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

/** POSTs an empty body to `url` and resolves with the status code (0 when nothing answered). */
export function post(url: string): Promise<number> {
  return new Promise((resolve) => {
    const outgoing = request(url, { method: 'POST', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', () => resolve(0));
    outgoing.end();
  });
}

/** Ends every kept-alive connection, so the process can exit. */
export function closeConnections(): void {
  agent.destroy();
}
