/**
 * The terminal as the monitor uses it: log lines scroll, the status table
 * stays pinned below them and is redrawn in place.
 *
 * Every write to the terminal goes through here (the logger included), so the
 * table is erased before a line is printed and drawn again after it.
 *
 * @since 0.1.0
 */

/** The part of a `tty.WriteStream` used: anything with `write` (and `columns` on a terminal). */
export interface Output {
  write(text: string): unknown
  readonly columns?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export class Screen {
  private table: ReadonlyArray<string> = []
  private drawn = 0

  constructor(private readonly out: Output) {}

  /** Prints a line (or several) above the table. */
  print(text: string): void {
    this.out.write(`${this.erase()}${text}\n${this.draw()}`)
  }

  /** Replaces the table. */
  show(lines: ReadonlyArray<string>): void {
    this.table = lines
    this.out.write(`${this.erase()}${this.draw()}`)
  }

  /** Leaves the last table on screen as plain text; later writes go below it. */
  release(): void {
    this.table = []
    this.drawn = 0
  }

  private erase(): string {
    // Cursor to the start of the table's first line, then clear to the end of the screen.
    const sequence = this.drawn === 0 ? "" : `\x1b[${this.drawn}F\x1b[J`
    this.drawn = 0
    return sequence
  }

  private draw(): string {
    // A wrapped line would take two rows and break the erase count: cut at the terminal's width.
    // 0 or unknown (no window size, e.g. under `script`): do not cut.
    const width = this.out.columns !== undefined && this.out.columns > 0 ? this.out.columns : Number.POSITIVE_INFINITY
    const lines = this.table.map((line) => (visibleLength(line) > width ? cut(line, width) : line))
    this.drawn = lines.length
    return lines.map((line) => `${line}\n`).join("")
  }
}

const ansi = /\x1b\[[0-9;]*m/g

/** Length without colour codes. */
const visibleLength = (text: string): number => text.replace(ansi, "").length

/** The first `width` visible characters, colour codes kept, colours reset at the end. */
const cut = (text: string, width: number): string => {
  let out = ""
  let visible = 0
  for (let i = 0; i < text.length && visible < width; i++) {
    if (text[i] === "\x1b") {
      const end = text.indexOf("m", i)
      out += text.slice(i, end + 1)
      i = end
      continue
    }
    out += text[i]
    visible++
  }
  return `${out}\x1b[0m`
}
