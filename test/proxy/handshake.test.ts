/** The proxy's HELLO peek (handshake.ts): only the opening HELLO commands are parsed. */
import { describe, expect, it } from 'vitest';
import { peekCommand, splitArgs } from '../../src/proxy/handshake.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('peekCommand', () => {
  it('RESP arrays: HELLO with its protocol version and length; anything else as soon as its name is read', () => {
    const hello = '*2\r\n$5\r\nHeLLo\r\n$1\r\n3\r\n';
    expect(peekCommand(b(hello + '*1\r\n$4\r\nPING\r\n'))).toEqual({ kind: 'hello', protover: '3', length: hello.length });
    const auth = '*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n';
    expect(peekCommand(b(auth))).toEqual({ kind: 'hello', protover: '3', length: auth.length });
    expect(peekCommand(b('*1\r\n$5\r\nhello\r\n'))).toEqual({ kind: 'hello', protover: undefined, length: 15 });
    expect(peekCommand(b('*3\r\n$3\r\nSET\r\n$1\r\nk'))).toEqual({ kind: 'other' });
    expect(peekCommand(b('*2\r\n$5\r\nHEL'))).toEqual({ kind: 'incomplete' });
    expect(peekCommand(b('*2\r\n$5\r\nHELLO\r\n$1\r\n'))).toEqual({ kind: 'incomplete' });
    expect(peekCommand(b('*2\r'))).toEqual({ kind: 'incomplete' });
    expect(peekCommand(b(''))).toEqual({ kind: 'incomplete' });
    expect(peekCommand(b('*x\r\n'))).toEqual({ kind: 'other' });
    // Lengths Redis does not take (string2ll) are not waited on: Redis's protocol error answers them.
    for (const t of ['* 1\r\n', '*01\r\n', '*1 \r\n', '*2\r\n$ 5\r\n', '*2\r\n$05\r\nhello\r\n']) expect(peekCommand(b(t)), t).toEqual({ kind: 'other' });
  });

  it('inline commands', () => {
    expect(peekCommand(b('HELLO 3\r\n'))).toEqual({ kind: 'hello', protover: '3', length: 9 });
    expect(peekCommand(b('hello 2\n'))).toEqual({ kind: 'hello', protover: '2', length: 8 });
    expect(peekCommand(b('hel'))).toEqual({ kind: 'incomplete' });
    expect(peekCommand(b('PING\r\n'))).toEqual({ kind: 'other' });
    expect(peekCommand(b('helloworld\r\n'))).toEqual({ kind: 'other' });
    expect(peekCommand(b('GET'))).toEqual({ kind: 'other' });
  });

  it('inline quoting as Redis reads it: a quoted HELLO or version is still a HELLO', () => {
    for (const line of ['HELLO "3"', "HELLO '3'", '"HELLO" 3', 'HELLO "\x33"', "'hello' '3' AUTH u p"]) {
      expect(peekCommand(b(`${line}\r\n`)), line).toMatchObject({ kind: 'hello', protover: '3' });
    }
    expect(peekCommand(b('"HEL'))).toEqual({ kind: 'incomplete' });
    expect(splitArgs('set "a b" \'c\\\'d\' "\\n\\x41"')).toEqual(['set', 'a b', "c'd", '\nA']);
    expect(splitArgs('get "unbalanced')).toBeNull();
    expect(splitArgs('get "a"b')).toBeNull();
    expect(splitArgs('  ')).toEqual([]);
  });
});
