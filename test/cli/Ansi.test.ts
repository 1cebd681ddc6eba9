import { describe, expect, it } from "@effect/vitest"
import { colors, strip } from "../../src/cli/Ansi.js"

describe("Ansi", () => {
  it("colours only a terminal, and none when NO_COLOR is set to anything but empty", () => {
    expect(colors({ isTTY: true }, {})).toBe(true)
    expect(colors({ isTTY: true }, { NO_COLOR: "" })).toBe(true)
    expect(colors({ isTTY: true }, { NO_COLOR: "1" })).toBe(false)
    expect(colors({ isTTY: false }, {})).toBe(false)
    expect(colors({}, {})).toBe(false)
  })

  it("strips colours, styles and cursor movement, and nothing else", () => {
    expect(strip("\x1b[0;1m--help\x1b[0m and \x1b[3F\x1b[J\x1b[41;97mFATAL\x1b[0m [x]")).toBe("--help and FATAL [x]")
  })
})
