/**
 * Help and suggestions made from the global usage text, so a command's help
 * is the same words as its line there, written once.
 */

/** Usage lines start `  sluice <command> [<subcommand>]`; a command's section runs to the next such line or the end of the list. */
const USAGE_LINE = /^ {2}sluice ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/;

interface Section {
  words: string[];
  text: string;
}

function sectionsOf(help: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const line of help.split('\n')) {
    const usage = USAGE_LINE.exec(line);
    if (usage) {
      current = { words: [usage[1]!, ...(usage[2] === undefined ? [] : [usage[2]])], text: line };
      sections.push(current);
    } else if (current !== undefined && /^ {3,}\S/.test(line)) {
      current.text += `\n${line}`;
    } else {
      current = undefined;
    }
  }
  return sections;
}

/** The commands the usage text lists (`import`, `query funnel`, ...). */
export function commandsOf(help: string): string[] {
  return [...new Set(sectionsOf(help).map((s) => s.words[0]!))];
}

/** The subcommands of a command that has them (`query` -> funnel, conversion, ...). */
export function subcommandsOf(help: string, command: string): string[] {
  return sectionsOf(help)
    .filter((s) => s.words[0] === command && s.words.length > 1)
    .map((s) => s.words[1]!);
}

/**
 * A command's own usage lines (a subcommand's, when given and the command has
 * it; else all of the command's) and the options every command takes;
 * undefined for a command the usage text does not list.
 */
export function commandHelp(help: string, command: string, subcommand?: string): string | undefined {
  const ofCommand = sectionsOf(help).filter((s) => s.words[0] === command);
  if (ofCommand.length === 0) return undefined;
  const chosen = ofCommand.filter((s) => s.words[1] === subcommand);
  const shown = subcommand !== undefined && chosen.length > 0 ? chosen : ofCommand;
  const common = help.slice(help.indexOf('common options:'));
  return `usage:\n${shown.map((s) => s.text).join('\n')}\n\n${common}`;
}

/** Levenshtein distance: the edits (insert, delete, substitute) from a to b. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/** ` (did you mean "x"?)` for the nearest candidate within a third of the word's length (at least 1, at most 3 edits), else ``. */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best === undefined ? '' : ` (did you mean "${prefix}${best.candidate}"?)`;
}
