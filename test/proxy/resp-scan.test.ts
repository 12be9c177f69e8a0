import { describe, expect, it } from 'vitest';
import { LONG_NAME, ReplyScanner, RequestScanner } from '../../src/proxy/resp-scan.js';

function cmd(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

function scanRequests(chunks: Buffer[]): { names: string[]; dead: boolean } {
  const names: string[] = [];
  const s = new RequestScanner((n) => void names.push(n));
  for (const c of chunks) s.feed(c);
  return { names, dead: s.dead };
}

function scanReplies(chunks: Buffer[]): { n: number; dead: boolean } {
  let n = 0;
  const s = new ReplyScanner(() => n++);
  for (const c of chunks) s.feed(c);
  return { n, dead: s.dead };
}

/** Every way of cutting `text` in two, plus byte by byte. */
function splits(text: string): Buffer[][] {
  const b = Buffer.from(text);
  const out: Buffer[][] = [];
  for (let i = 0; i <= b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

describe('RequestScanner', () => {
  const batch = cmd('SET', 'key:1', 'value with\r\nnewline') + cmd('get', 'key:1') + 'PING\r\n' + '  inline  arg\r\n' + cmd('Hello', '3');
  const expected = ['set', 'get', 'ping', 'inline', 'hello'];

  it('counts a pipelined batch split at every offset', () => {
    for (const chunks of splits(batch)) expect(scanRequests(chunks)).toEqual({ names: expected, dead: false });
  });

  it('ignores empty lines, *0 and negative counts', () => {
    expect(scanRequests([Buffer.from('\r\n\n*0\r\n*-1\r\n   \r\n' + cmd('DEL', 'a'))]).names).toEqual(['del']);
  });

  it('counts a command only once it is complete', () => {
    const s = new RequestScanner(() => void n++);
    let n = 0;
    const text = cmd('SET', 'k', 'x'.repeat(100_000));
    s.feed(Buffer.from(text.slice(0, 50_000)));
    expect(n).toBe(0);
    s.feed(Buffer.from(text.slice(50_000)));
    expect(n).toBe(1);
  });

  it('reports overlong names as one label', () => {
    expect(scanRequests([Buffer.from(cmd('x'.repeat(100)) + cmd('GET', 'a'))]).names).toEqual([LONG_NAME, 'get']);
  });

  it('stops on garbage without throwing', () => {
    for (const g of ['*x\r\n', '*1\r\nfoo\r\n', '*1\r\n$abc\r\n', '*2\r\n$3\r\nget\r\n+oops\r\n', '*1\r\r']) {
      const r = scanRequests([Buffer.from(cmd('GET', 'a') + g + cmd('GET', 'b'))]);
      expect(r).toEqual({ names: ['get'], dead: true });
    }
    // Lengths Redis's string2ll refuses (a protocol error that closes the connection): whole or split anywhere.
    for (const g of ['*01\r\n$3\r\nget\r\n', '*1\r\n$03\r\nget\r\n', '*00\r\n', '*\r\n', '*-\r\n', '*-0\r\n', '*-01\r\n', '*1\r\n$\r\n\r\n', '*1\r\n$-0\r\n']) {
      for (const chunks of splits(cmd('GET', 'a') + g + cmd('GET', 'b'))) expect(scanRequests(chunks), JSON.stringify(g)).toEqual({ names: ['get'], dead: true });
    }
    const rnd = Buffer.alloc(4096);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 7919 + 13) % 256;
    expect(() => scanRequests([rnd, rnd])).not.toThrow();
  });
});

describe('ReplyScanner', () => {
  const replies = [
    '+OK\r\n', '-ERR wrong\r\n', ':42\r\n', '$5\r\nhello\r\n', '$-1\r\n', '*-1\r\n', '*0\r\n', '$0\r\n\r\n',
    '*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n*1\r\n+x\r\n$4\r\nb\r\nr\r\n',
    '%2\r\n+a\r\n:1\r\n+b\r\n~2\r\n,1.5\r\n#t\r\n', '_\r\n', '(12345\r\n', '!3\r\nerr\r\n', '=7\r\ntxt:abc\r\n',
    '|1\r\n+key\r\n+val\r\n*1\r\n:1\r\n', '*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n',
  ];
  const all = replies.join('');

  it('counts top-level replies split at every offset', () => {
    for (const chunks of splits(all)) expect(scanReplies(chunks)).toEqual({ n: replies.length, dead: false });
  });

  it('skips push messages', () => {
    const text = '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n+OK\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n:1\r\n';
    for (const chunks of splits(text)) expect(scanReplies(chunks)).toEqual({ n: 2, dead: false });
  });

  it('stops on garbage and streamed types without throwing', () => {
    expect(scanReplies([Buffer.from('+OK\r\n?what\r\n+OK\r\n')])).toEqual({ n: 1, dead: true });
    expect(scanReplies([Buffer.from('$?\r\n;4\r\nHell\r\n;0\r\n')])).toEqual({ n: 0, dead: true });
    expect(scanReplies([Buffer.from('*1x\r\n')]).dead).toBe(true);
  });
});
