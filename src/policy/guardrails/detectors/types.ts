/** Where a detector found something in one string: the range to mask and what it was (never the text itself). */
export interface Finding {
  start: number;
  end: number;
  /** The detector or rule name, e.g. `github_token`; used in block reasons and mask placeholders. */
  label: string;
}

/** Finds every occurrence in one string. Pure and synchronous: listings are checked on the cached path. */
export type Detector = (text: string) => Finding[];

/**
 * Every match of a global regex, optionally confirmed by `accept` (a checksum), with `group` choosing
 * which capture is the finding (the token after `Bearer `, not the word). Empty matches are skipped.
 */
export function findAll(re: RegExp, label: string, accept?: (match: string) => boolean, group = 0): Detector {
  return (text) => {
    const out: Finding[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0] === '') {
        re.lastIndex++;
        continue;
      }
      const hit = m[group];
      if (hit === undefined || (accept && !accept(hit))) continue;
      const start = m.index + (group === 0 ? 0 : m[0].indexOf(hit));
      out.push({ start, end: start + hit.length, label });
    }
    return out;
  };
}
