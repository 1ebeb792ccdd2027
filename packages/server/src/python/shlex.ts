/** Python's `shlex.split`, for MLflow's order_by clauses. */

/** `shlex.split(s)` (POSIX mode, no comments); null where Python raises ValueError. */
export function shlexSplit(s: string): string[] | null {
  const whitespace = ' \t\r\n';
  const out: string[] = [];
  const chars = [...s];
  let i = 0;
  for (;;) {
    let token = '';
    let quoted = false;
    let state: string | null = ' ';
    let escapedState = 'a';
    for (;;) {
      const ch = i < chars.length ? chars[i++]! : '';
      if (state === ' ') {
        if (!ch) {
          state = null;
          break;
        } else if (whitespace.includes(ch)) {
          if (token || quoted) break;
        } else if (ch === '\\') {
          escapedState = 'a';
          state = ch;
        } else if (ch === "'" || ch === '"') {
          state = ch;
        } else {
          token = ch;
          state = 'a';
        }
      } else if (state === "'" || state === '"') {
        quoted = true;
        if (!ch) return null; // No closing quotation
        if (ch === state) state = 'a';
        else if (ch === '\\' && state === '"') {
          escapedState = state;
          state = ch;
        } else token += ch;
      } else if (state === '\\') {
        if (!ch) return null; // No escaped character
        if ((escapedState === "'" || escapedState === '"') && ch !== state && ch !== escapedState) token += state;
        token += ch;
        state = escapedState;
      } else {
        // state 'a': inside a word
        if (!ch) {
          state = null;
          break;
        } else if (whitespace.includes(ch)) {
          state = ' ';
          if (token || quoted) break;
        } else if (ch === "'" || ch === '"') {
          state = ch;
        } else if (ch === '\\') {
          escapedState = 'a';
          state = ch;
        } else token += ch;
      }
    }
    if (!quoted && token === '') return out; // end of input
    out.push(token);
    if (state === null) return out;
  }
}
