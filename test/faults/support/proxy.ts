/**
 * A TCP proxy to put between billettigue and a database server, which cuts connections on purpose:
 * the "connection lost mid-stream" fault of test/faults/ (docs/reliability.md).
 *
 *   const proxy = await startProxy({ host: '127.0.0.1', port: 3306 }, { dropAfterBytes: 60_000 });
 *   run(['backup'], { url: proxy.url('mysql://root@127.0.0.1:3306/mydb') });
 *   proxy.cuts        // how many connections it cut
 *   await proxy.close();
 *
 * Every client connection gets its own connection to the server. Bytes are counted per connection
 * in the direction `direction` ('down': server → client, what a backup reads; 'up': client →
 * server, what a restore's load sends). When a connection has passed `dropAfterBytes` in that
 * direction, both of its sockets are reset (RST: the client sees ECONNRESET, as when a server
 * or a network link dies). `dropAfterBytes` can be changed at any time (`proxy.dropAfterBytes =
 * …`; Infinity: never cut), so a test can let a command connect and check the schema normally
 * and cut only the big stream. Only loopback addresses: the proxy listens on 127.0.0.1.
 */
import net from 'node:net';

export interface ProxyOptions {
  /** Cut a connection once this many bytes went through it in `direction` (default: never). */
  dropAfterBytes?: number;
  /** Which direction is counted: 'down' (server → client, default) or 'up' (client → server). */
  direction?: 'down' | 'up';
}

export interface FaultProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** The threshold; change it while connections are open to arm or disarm the cut. */
  dropAfterBytes: number;
  /** How many connections were cut so far. */
  readonly cuts: number;
  /** `serverUrl` with its host and port replaced by the proxy's (user, password, path kept). */
  url(serverUrl: string): string;
  /** Stops listening and resets every open connection. */
  close(): Promise<void>;
}

export async function startProxy(server: { host: string; port: number }, options: ProxyOptions = {}): Promise<FaultProxy> {
  const direction = options.direction ?? 'down';
  const open = new Set<net.Socket>();
  let cuts = 0;
  const state = { dropAfterBytes: options.dropAfterBytes ?? Infinity };

  const listener = net.createServer((client) => {
    const upstream = net.connect(server.port, server.host);
    open.add(client);
    open.add(upstream);
    let counted = 0;
    let cut = false;
    const cutNow = () => {
      if (cut) return;
      cut = true;
      cuts++;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const relay = (from: net.Socket, to: net.Socket, count: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (cut) return;
        if (count) {
          const room = state.dropAfterBytes - counted;
          if (chunk.length >= room) {
            // Deliver exactly up to the threshold, then cut: the cut lands mid-packet.
            if (room > 0) to.write(chunk.subarray(0, room));
            counted += Math.max(0, room);
            setImmediate(cutNow);
            return;
          }
          counted += chunk.length;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    };
    relay(upstream, client, direction === 'down');
    relay(client, upstream, direction === 'up');
    const end = (s: net.Socket, other: net.Socket) => {
      s.on('error', () => other.destroy());
      s.on('close', () => {
        open.delete(s);
        other.destroy();
      });
    };
    end(client, upstream);
    end(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;
  return {
    port,
    get dropAfterBytes() {
      return state.dropAfterBytes;
    },
    set dropAfterBytes(n: number) {
      state.dropAfterBytes = n;
    },
    get cuts() {
      return cuts;
    },
    url(serverUrl: string) {
      const u = new URL(serverUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString().replace(/\/$/, '');
    },
    async close() {
      for (const s of open) s.resetAndDestroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
