/**
 * Decoding a `head` event's data in one pass, for the shape every beacon node
 * sends: a flat JSON object of the head's own keys, with string and boolean
 * values. Internal: not part of the package's entries.
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import type { HeadEventData, Root } from "../events/BeaconEvent.js"

const code = (char: string): number => char.charCodeAt(0)
const QUOTE = code("\"")
const COMMA = code(",")
const COLON = code(":")
const OPEN = code("{")
const CLOSE = code("}")
const ZERO = code("0")
const NINE = code("9")
const LOWER_X = code("x")

/**
 * The text being scanned, as bytes: a byte is read from a typed array several
 * times faster than a character from a string (`charCodeAt`, on a slice of a
 * chunk). A head is about 470 characters; longer data is left to `JSON.parse`.
 */
const maxLength = 2048
// Room past the longest text for the last word of a pattern compared there.
const bytes = Buffer.alloc(maxLength + 128)
const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
const encoder = new TextEncoder()

/**
 * 0 for a hex digit's byte, 1 for any other. Looked up without a branch per
 * digit: whether a digit is a number or a letter is random, and a branch on it
 * mispredicted made the check three times slower.
 */
const notHex = new Uint8Array(256).fill(1)
for (const c of "0123456789abcdefABCDEF") notHex[code(c)] = 0

/** A root is `"0x`, 64 hex digits and `"`, from its opening quote. */
const quotedRootLength = 68

/**
 * A text of at least 4 bytes as the words it is compared by: the words at 0,
 * 4, 8… and the last one, ending with the text (it may overlap the one before).
 * A word at a time, a key or a root is compared in a quarter of the loads.
 */
class Pattern {
  readonly offsets: Int32Array
  readonly words: Uint32Array
  constructor(readonly length: number) {
    const count = Math.ceil(length / 4)
    this.offsets = Int32Array.from({ length: count }, (_, j) => Math.min(4 * j, length - 4))
    this.words = new Uint32Array(count)
  }
  /** Takes the text from `view` at `at`. */
  read(view: DataView, at: number): this {
    for (let j = 0; j < this.offsets.length; j++) this.words[j] = view.getUint32(at + this.offsets[j]!, true)
    return this
  }
}

const patternOf = (text: string): Pattern => {
  const encoded = new TextEncoder().encode(text)
  return new Pattern(encoded.length).read(new DataView(encoded.buffer), 0)
}

/** The keys, in quotes, by index: a key's bit in the keys seen is `1 << index`. */
const keys = [
  "\"slot\"",
  "\"block\"",
  "\"state\"",
  "\"epoch_transition\"",
  "\"previous_duty_dependent_root\"",
  "\"current_duty_dependent_root\"",
  "\"execution_optimistic\""
].map(patternOf)
const SLOT = 0
const BLOCK = 1
const STATE = 2
const EPOCH_TRANSITION = 3
const PREVIOUS = 4
const CURRENT = 5
const OPTIMISTIC = 6
const required = (1 << SLOT) | (1 << BLOCK) | (1 << STATE)
const bothDependent = (1 << PREVIOUS) | (1 << CURRENT)
const TRUE = patternOf("true")
const FALSE = patternOf("false")

/** Whether the bytes from `at` are `pattern`'s. */
const isAt = (at: number, pattern: Pattern): boolean => {
  const { offsets, words: expected } = pattern
  for (let j = 0; j < offsets.length; j++) {
    if (view.getUint32(at + offsets[j]!, true) !== expected[j]) return false
  }
  return true
}

/**
 * The key in quotes at `at`, told by its first word (a quote and 3 letters: no
 * two keys share it) and checked whole; -1 for any other.
 */
const keyAt = (at: number): number => {
  const first = view.getUint32(at, true)
  for (let key = 0; key < keys.length; key++) {
    if (keys[key]!.words[0] === first) return isAt(at, keys[key]!) ? key : -1
  }
  return -1
}

/** 1 for the bytes of JSON's white space, 0 for any other. */
const space = new Uint8Array(256)
for (const c of " \n\r\t") space[code(c)] = 1

const skipSpace = (i: number): number => {
  while (space[bytes[i]!] === 1) i++
  return i
}

/**
 * The last root read for each key, by index, as a string and as its bytes: a
 * block and state root arrive once from each followed node, and the dependent
 * roots change once an epoch. Read again, the kept string is used (its bytes
 * compared, not checked again) and none is made.
 */
const lastRoot: Array<string> = keys.map(() => "")
const lastRootBytes: Array<Pattern> = keys.map(() => new Pattern(quotedRootLength))

/** Whether the bytes from `at` are `root`'s (a root in quotes, or zeros: then none is known). */
const isKnown = (at: number, root: Pattern): boolean => root.words[0] !== 0 && isAt(at, root)

const remember = (key: number, root: string, at: number): void => {
  lastRoot[key] = root
  lastRootBytes[key]!.read(view, at)
}

/**
 * The root in quotes at `at`, or `undefined` if there is none. Made from the
 * bytes, a string of its own: a slice of `data` would keep the whole chunk it
 * came in (16 KiB) alive for as long as the head is cached.
 */
const rootAt = (at: number): Root | undefined => {
  if (bytes[at] !== QUOTE || bytes[at + 1] !== ZERO || bytes[at + 2] !== LOWER_X) return undefined
  const end = at + quotedRootLength - 1
  let bad = 0
  for (let i = at + 3; i < end; i++) bad |= notHex[bytes[i]!]!
  if (bad !== 0 || bytes[end] !== QUOTE) return undefined
  return bytes.toString("latin1", at + 1, end) as Root
}

/** The root in quotes at `at`, the value of `key`, or `undefined` if there is none. */
const rootOf = (at: number, key: number): string | undefined => {
  if (isKnown(at, lastRootBytes[key]!)) return lastRoot[key]
  // At an epoch's turn, the previous dependent root is what the current one was.
  const root = key === PREVIOUS && isKnown(at, lastRootBytes[CURRENT]!) ? lastRoot[CURRENT] : rootAt(at)
  if (root !== undefined) remember(key, root, at)
  return root
}

/**
 * The `data` of a `head` event, decoded, if it is a flat JSON object of the
 * head's keys (each at most once, `slot`, `block` and `state` present), its
 * slot a decimal string of at most 15 digits, its roots 0x and 64 hex digits
 * and its flags `true` or `false`, with JSON's white space anywhere between
 * tokens; `undefined` for anything else (an escape, an unknown key, a number,
 * `null`, a character outside ASCII…), which `JSON.parse` and the schema
 * decide. Tested to agree with them wherever it answers.
 */
export const scanHead = (data: string): HeadEventData | undefined => {
  const length = data.length
  if (length >= maxLength) return undefined
  const { read, written } = encoder.encodeInto(data, bytes)
  // A character outside ASCII takes more than one byte: then the bytes are not the characters.
  if (read !== length || written !== length) return undefined
  // The bytes after the text are left from earlier texts: a zero, which matches nothing, ends it.
  bytes[length] = 0
  let i = skipSpace(0)
  if (bytes[i] !== OPEN) return undefined
  i = skipSpace(i + 1)
  let seen = 0
  let slot = 0
  let block = ""
  let state = ""
  let previous = ""
  let current = ""
  let epochTransition = false
  let optimistic = false
  for (;;) {
    const key = keyAt(i)
    if (key === -1 || (seen & (1 << key)) !== 0) return undefined
    seen |= 1 << key
    i = skipSpace(i + keys[key]!.length)
    if (bytes[i] !== COLON) return undefined
    i = skipSpace(i + 1)
    switch (key) {
      case SLOT: {
        if (bytes[i] !== QUOTE) return undefined
        const start = i + 1
        let c = bytes[start]!
        if (c === ZERO) {
          i = start + 1
        } else {
          // Up to 15 digits, not starting with 0: a `number` holds them exactly.
          for (i = start; i < start + 15 && c >= ZERO && c <= NINE; c = bytes[++i]!) slot = slot * 10 + (c - ZERO)
          if (i === start) return undefined
        }
        if (bytes[i] !== QUOTE) return undefined
        i++
        break
      }
      case BLOCK:
      case STATE:
      case PREVIOUS:
      case CURRENT: {
        const root = rootOf(i, key)
        if (root === undefined) return undefined
        if (key === BLOCK) block = root
        else if (key === STATE) state = root
        else if (key === PREVIOUS) previous = root
        else current = root
        i += quotedRootLength
        break
      }
      case EPOCH_TRANSITION:
      case OPTIMISTIC: {
        let value: boolean
        if (isAt(i, TRUE)) {
          value = true
          i += 4
        } else if (isAt(i, FALSE)) {
          value = false
          i += 5
        } else {
          return undefined
        }
        if (key === EPOCH_TRANSITION) epochTransition = value
        else optimistic = value
      }
    }
    i = skipSpace(i)
    const c = bytes[i]
    if (c === CLOSE) break
    if (c !== COMMA) return undefined
    i = skipSpace(i + 1)
  }
  if ((seen & required) !== required || skipSpace(i + 1) !== length) return undefined
  // The schema's field order, whatever the server's; an absent optional root stays absent, as the schema leaves it.
  if ((seen & bothDependent) === bothDependent) {
    return {
      slot,
      block: block as Root,
      state: state as Root,
      epoch_transition: epochTransition,
      previous_duty_dependent_root: previous as Root,
      current_duty_dependent_root: current as Root,
      execution_optimistic: optimistic
    }
  }
  const head: { -readonly [K in keyof HeadEventData]: HeadEventData[K] } = {
    slot,
    block: block as Root,
    state: state as Root,
    epoch_transition: epochTransition,
    execution_optimistic: optimistic
  }
  if ((seen & (1 << PREVIOUS)) !== 0) head.previous_duty_dependent_root = previous as Root
  if ((seen & (1 << CURRENT)) !== 0) head.current_duty_dependent_root = current as Root
  return head
}
