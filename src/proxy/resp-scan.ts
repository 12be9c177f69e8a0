/**
 * Incremental RESP scanners for the proxy's request and latency counters. They look at the
 * chunks the proxy forwards anyway and never hold them: a few integers of state carry a frame
 * split across chunks. Bulk payloads are skipped by arithmetic, simple lines with indexOf; only
 * the command name (first bulk, at most MAX_NAME bytes) is copied and turned into a string.
 *
 * Neither throws: on input that is not RESP they set `dead` and ignore everything after, so the
 * connection is still piped as before, just no longer counted.
 */

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
/** Longer first arguments are not command names: reported as MAX_NAME_LABEL. */
const MAX_NAME = 64;
export const LONG_NAME = '(long)';
/** Redis's own limits: inline lines (PROTO_INLINE_MAX_SIZE) and multibulk / bulk lengths. */
const MAX_INLINE = 64 * 1024;
const MAX_MULTIBULK = 1024 * 1024 * 1024;
/** Replies: no bound of Redis's own; a sanity limit. */
const MAX_BULK = 2 ** 40;
/**
 * Requests: Redis refuses a bulk longer than proto-max-bulk-len (512 MiB by default, openrs does not change it)
 * as soon as it reads the length, and closes the connection. Such a client goes to a connection of its own at
 * once, where Redis answers it, rather than after the 1 MiB a long command is read for (mux.ts MAX_PARTIAL).
 */
const MAX_REQUEST_BULK = 512 * 1024 * 1024;

// Request scanner states.
const Q_START = 0;
const Q_MB_LEN = 1;
const Q_BULK_DOLLAR = 2;
const Q_BULK_LEN = 3;
const Q_BULK_DATA = 4;
const Q_INLINE = 5;

/** Counts complete client commands (multibulk and inline) and reports each one's name, lower case. */
export class RequestScanner {
  dead = false;
  /** While onCommand runs: the offset, in the chunk being fed, just past the command's last byte. */
  at = 0;
  /** While onCommand runs: the command was an inline (telnet-style) one. */
  inline = false;
  private state = Q_START;
  private num = 0;
  private neg = false;
  /** Digits of the length line so far (Redis's string2ll: at least one, and no leading zero). */
  private digits = 0;
  /** Saw the CR of a length line; the LF comes next. */
  private cr = false;
  private args = 0;
  private first = false;
  private skip = 0;
  private readonly name = Buffer.allocUnsafe(MAX_NAME);
  private nameLen = 0;
  private nameLong = false;
  private lineLen = 0;
  /** Inline: 0 before the name, 1 in it, 2 after it. */
  private inl = 0;
  private lastName = '';
  private lastBytes = Buffer.alloc(0);

  /** Between commands: the next byte fed starts a new one. */
  get idle(): boolean {
    return this.state === Q_START;
  }

  /** onCommand may return false to stop: feed() then returns at once, just past that command. */
  constructor(private readonly onCommand: (name: string) => boolean | void) {}

  /**
   * Scan `b` from `from`. Returns where it stopped: b.length, or just past the command whose
   * onCommand returned false (the scanner is then between commands, ready for the rest).
   */
  feed(b: Buffer, from = 0): number {
    if (this.dead) return b.length;
    const end = b.length;
    let pos = from;
    this.stop = false;
    while (pos < end) {
      if (this.stop) return pos;
      if (this.dead) return end;
      switch (this.state) {
        case Q_START: {
          const c = b[pos]!;
          if (c === 42 /* * */) {
            // Most commands arrive whole: scan those in one go; the state machine takes the rest.
            const next = this.whole(b, pos, end);
            if (next > 0) {
              pos = next;
              this.at = pos;
              this.inline = false;
              if (this.onCommand(this.wholeName) === false) return pos;
              break;
            }
            this.state = Q_MB_LEN;
            this.num = 0;
            this.neg = false;
            this.digits = 0;
            this.cr = false;
            pos++;
          } else if (c === CR || c === LF) {
            pos++;
          } else {
            this.state = Q_INLINE;
            this.inl = 0;
            this.nameLen = 0;
            this.nameLong = false;
            this.lineLen = 0;
          }
          break;
        }
        case Q_MB_LEN:
        case Q_BULK_LEN: {
          const c = b[pos++]!;
          if (this.cr) {
            if (c !== LF) return this.die(end);
            this.cr = false;
            this.lengthDone();
          } else if (c === CR) {
            this.cr = true;
          } else if (c >= 48 && c <= 57) {
            // A digit after a leading 0 (`01`, `-0...`): Redis refuses the length, and closes the connection.
            if (this.digits++ > 0 && this.num === 0) return this.die(end);
            this.num = this.num * 10 + (c - 48);
            if (this.num > MAX_REQUEST_BULK) return this.die(end);
          } else if (c === 45 /* - */ && this.digits === 0 && !this.neg && this.state === Q_MB_LEN) {
            this.neg = true;
          } else {
            return this.die(end);
          }
          break;
        }
        case Q_BULK_DOLLAR: {
          if (b[pos++] !== 36 /* $ */) return this.die(end);
          this.state = Q_BULK_LEN;
          this.num = 0;
          this.digits = 0;
          this.cr = false;
          break;
        }
        case Q_BULK_DATA: {
          const n = Math.min(this.skip, end - pos);
          if (this.first) {
            // Payload bytes in this piece (the trailing CRLF is not part of the name).
            const data = Math.min(n, this.skip - 2);
            if (data > 0) {
              if (this.nameLen + data <= MAX_NAME) {
                b.copy(this.name, this.nameLen, pos, pos + data);
                this.nameLen += data;
              } else {
                this.nameLong = true;
              }
            }
          }
          pos += n;
          this.skip -= n;
          if (this.skip === 0) this.argDone(pos);
          break;
        }
        case Q_INLINE: {
          const c = b[pos++]!;
          if (c === LF) {
            this.state = Q_START;
            if (this.nameLen > 0 || this.nameLong) this.emit(pos, true);
            break;
          }
          if (++this.lineLen > MAX_INLINE) return this.die(end);
          if (this.inl === 2 || c === CR) break;
          if (c === SPACE || c === TAB) {
            if (this.inl === 1) this.inl = 2;
          } else {
            this.inl = 1;
            if (this.nameLen < MAX_NAME) this.name[this.nameLen++] = c;
            else this.nameLong = true;
          }
          break;
        }
      }
    }
    return end;
  }

  private stop = false;

  private emit(at: number, inline: boolean): void {
    this.at = at;
    this.inline = inline;
    if (this.onCommand(this.takeName()) === false) this.stop = true;
  }

  /** Not RESP: stop for good. Returns `end`, for feed() to return. */
  private die(end = 0): number {
    this.dead = true;
    return end;
  }

  private lengthDone(): void {
    // No digits (`*`, `*-`, `$`) or minus zero: not a number to Redis (string2ll), a protocol error.
    if (this.digits === 0 || (this.neg && this.num === 0)) {
      this.die();
      return;
    }
    if (this.state === Q_MB_LEN) {
      // Redis ignores `*0` and negative counts: no command.
      if (this.neg || this.num === 0) {
        this.state = Q_START;
      } else if (this.num > MAX_MULTIBULK) {
        this.die();
      } else {
        this.args = this.num;
        this.first = true;
        this.nameLen = 0;
        this.nameLong = false;
        this.state = Q_BULK_DOLLAR;
      }
      return;
    }
    this.skip = this.num + 2;
    this.state = Q_BULK_DATA;
  }

  private argDone(pos: number): void {
    this.first = false;
    if (--this.args === 0) {
      this.state = Q_START;
      this.emit(pos, false);
    } else {
      this.state = Q_BULK_DOLLAR;
    }
  }

  private wholeName = '';

  /**
   * A complete multibulk command at b[pos] (a '*'), within `end`: returns the offset past it and
   * sets wholeName; 0 when it is incomplete or anything is unusual (the state machine decides).
   */
  private whole(b: Buffer, pos: number, end: number): number {
    let p = pos + 1;
    let n = 0;
    let c = 0;
    while (p < end && (c = b[p]!) >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      p++;
    }
    // A leading zero (n would be 0 or the count have one) goes to the state machine, which refuses it as Redis does.
    if (n === 0 || n > 1024 || b[pos + 1] === 48 || p + 1 >= end || c !== CR || b[p + 1] !== LF) return 0;
    p += 2;
    let nameAt = 0;
    let nameLen = 0;
    for (let k = 0; k < n; k++) {
      if (p >= end || b[p] !== 36 /* $ */) return 0;
      p++;
      let len = 0;
      const digits = p;
      while (p < end && (c = b[p]!) >= 48 && c <= 57) {
        len = len * 10 + (c - 48);
        p++;
      }
      if (p === digits || p - digits > 10 || (b[digits] === 48 && p - digits > 1) || p + 1 >= end || c !== CR || b[p + 1] !== LF) return 0;
      p += 2;
      if (k === 0) {
        nameAt = p;
        nameLen = len;
      }
      p += len + 2;
      if (p > end) return 0;
    }
    if (nameLen > MAX_NAME) {
      this.wholeName = LONG_NAME;
      return p;
    }
    const last = this.lastBytes;
    let same = nameLen === last.length;
    for (let i = 0; same && i < nameLen; i++) same = b[nameAt + i] === last[i];
    if (!same) {
      this.lastBytes = Buffer.from(b.subarray(nameAt, nameAt + nameLen));
      this.lastName = b.toString('latin1', nameAt, nameAt + nameLen).toLowerCase();
    }
    this.wholeName = this.lastName;
    return p;
  }

  /** The name as a lower-case string; the previous one is reused when the bytes are the same. */
  private takeName(): string {
    if (this.nameLong) return LONG_NAME;
    const len = this.nameLen;
    const last = this.lastBytes;
    if (len === last.length && this.name.compare(last, 0, len, 0, len) === 0) return this.lastName;
    this.lastBytes = Buffer.from(this.name.subarray(0, len));
    this.lastName = this.name.toString('latin1', 0, len).toLowerCase();
    return this.lastName;
  }
}

// Reply scanner states.
const R_TYPE = 0;
const R_LINE = 1;
const R_LEN = 2;
const R_DATA = 3;

/**
 * Recognizes complete top-level RESP2 / RESP3 replies and reports each one. Push messages (`>`)
 * and attributes (`|`, which precede the reply they describe) are not replies to a request: not
 * reported. Streamed RESP3 strings and aggregates (`$?`, `*?`) stop the scanner.
 */
export class ReplyScanner {
  dead = false;
  private state = R_TYPE;
  private type = 0;
  private num = 0;
  private neg = false;
  private cr = false;
  private skip = 0;
  /** Open aggregates: elements still expected, and their type byte. */
  private readonly counts: number[] = [];
  private readonly types: number[] = [];
  private topType = 0;
  /** While onReply runs: the offset, in the chunk being fed, just past the reply's last byte. */
  at = 0;

  constructor(private readonly onReply: () => void) {}

  feed(b: Buffer): void {
    if (this.dead) return;
    const end = b.length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case R_TYPE: {
          const t = b[pos++]!;
          this.type = t;
          if (this.counts.length === 0) this.topType = t;
          switch (t) {
            case 43: // + simple string
            case 45: // - error
            case 58: // : integer
            case 95: // _ null
            case 35: // # boolean
            case 44: // , double
            case 40: // ( big number
              this.state = R_LINE;
              break;
            case 36: // $ bulk
            case 33: // ! bulk error
            case 61: // = verbatim
            case 42: // * array
            case 126: // ~ set
            case 37: // % map
            case 62: // > push
            case 124: // | attribute
              this.state = R_LEN;
              this.num = 0;
              this.neg = false;
              this.cr = false;
              break;
            default:
              this.dead = true;
              return;
          }
          break;
        }
        case R_LINE: {
          const i = b.indexOf(LF, pos);
          if (i < 0) {
            pos = end;
          } else {
            pos = i + 1;
            this.state = R_TYPE;
            this.at = pos;
            this.elementDone(false);
          }
          break;
        }
        case R_LEN: {
          const c = b[pos++]!;
          if (this.cr) {
            if (c !== LF) {
              this.dead = true;
              return;
            }
            this.cr = false;
            this.at = pos;
            this.lengthDone();
          } else if (c === CR) {
            this.cr = true;
          } else if (c >= 48 && c <= 57) {
            this.num = this.num * 10 + (c - 48);
            if (this.num > MAX_BULK) {
              this.dead = true;
              return;
            }
          } else if (c === 45 && this.num === 0 && !this.neg) {
            this.neg = true;
          } else {
            this.dead = true;
            return;
          }
          break;
        }
        case R_DATA: {
          const n = Math.min(this.skip, end - pos);
          pos += n;
          this.skip -= n;
          if (this.skip === 0) {
            this.state = R_TYPE;
            this.at = pos;
            this.elementDone(false);
          }
          break;
        }
      }
    }
  }

  private lengthDone(): void {
    const t = this.type;
    this.state = R_TYPE;
    if (t === 36 || t === 33 || t === 61) {
      if (this.neg) return this.elementDone(false); // null bulk
      this.skip = this.num + 2;
      this.state = R_DATA;
      return;
    }
    const n = this.neg ? 0 : t === 37 || t === 124 ? this.num * 2 : this.num;
    if (n === 0) return this.elementDone(t === 124);
    this.counts.push(n);
    this.types.push(t);
  }

  /** One value is complete; `attr`: it was an attribute, which is no element of its parent. */
  private elementDone(attr: boolean): void {
    const counts = this.counts;
    for (;;) {
      if (attr) return;
      const depth = counts.length;
      if (depth === 0) {
        const t = this.topType;
        if (t !== 62 && t !== 124) this.onReply();
        return;
      }
      if (--counts[depth - 1]! > 0) return;
      counts.pop();
      attr = this.types.pop() === 124;
      if (attr && counts.length === 0) return;
    }
  }
}
