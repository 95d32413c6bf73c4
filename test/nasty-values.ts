/** Values that must reach a scheduler's consumer exactly, or be refused: the injection suites' table. */

export const BIG = `${'0123456789abcdef%$`\'"\\'.repeat(4_000)}`.slice(0, 100_000); // 100 kB of the worst characters

/** name → value; every one must either arrive exactly or be refused. */
export const NASTY: [string, string][] = [
  ['single quotes', "it's 'quoted'"],
  ['double quotes', 'say "hi" ""'],
  ['percent', '100% %s %n %% \\% %'],
  ['dollar', '$HOME ${HOME} $(id) $$ $1 $@ $* $? $0 ${X:-y}'],
  ['backticks', '`id` `'],
  ['github expression', '${{ secrets.TOKEN }} ${{ github.actor }} ${{'],
  ['newlines', 'line 1\nline 2\n\n'],
  ['crlf', 'a\r\nb'],
  ['lone cr', 'a\rb'],
  ['tab', 'a\tb\t'],
  ['backslashes', 'C:\\path\\ \\\\ \\n \\x41 trailing\\'],
  ['escape and del', 'a\x1b[31mred\x1b[0m\x7f\x01'],
  ['unicode', 'ünïcødé 😀 → ∕ \u202eRTL\u202c \u00a0nbsp \u200bzw'],
  ['unicode line breaks', 'a\u2028b\u2029c\u0085d'],
  ['bom', '\ufeffx'],
  ['shell metacharacters', '; rm -rf "$OUT/victim" && echo pwned > "$OUT/pwned" | cat & # <>*?[a]{b,c}~'],
  ['systemd specifiers', '%h %u %t %% %n %i %%%'],
  ['leading dash', '-e --help -- -'],
  ['only spaces', '   '],
  ['empty', ''],
  ['hash', '# not a comment'],
  ['yaml-ish', '- a: b\n  c: [d]\n--- ...'],
  ['100 kB', BIG],
];
