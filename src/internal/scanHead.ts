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

/** A root is `"0x`, 64 hex digits and `"`, from its opening quote; its digits are 16 words from its fourth byte. */
const quotedRootLength = 68
const digitWords = 16

/**
 * A text of at least 4 bytes as the words it is compared by: the words at 0,
 * 4, 8… and the last one, ending with the text (it may overlap the one before).
 * A word at a time, a key is compared in a quarter of the loads.
 */
class Pattern {
  readonly length: number
  readonly offsets: Int32Array
  readonly words: Uint32Array
  constructor(text: string) {
    const encoded = new TextEncoder().encode(text)
    const length = this.length = encoded.length
    this.offsets = Int32Array.from({ length: Math.ceil(length / 4) }, (_, j) => Math.min(4 * j, length - 4))
    const view = new DataView(encoded.buffer)
    this.words = Uint32Array.from(this.offsets, (offset) => view.getUint32(offset, true))
  }
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
].map((key) => new Pattern(key))
const SLOT = 0
const BLOCK = 1
const STATE = 2
const EPOCH_TRANSITION = 3
const PREVIOUS = 4
const CURRENT = 5
const OPTIMISTIC = 6
const required = (1 << SLOT) | (1 << BLOCK) | (1 << STATE)
const bothDependent = (1 << PREVIOUS) | (1 << CURRENT)
const TRUE = new Pattern("true")
const FALSE = new Pattern("false")

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
 * The last root read for each key, by index, as a string and as its digits'
 * words (all zero while none is: a zero byte is no digit): a block and state
 * root arrive once from each followed node, and the dependent roots change once
 * an epoch. Read again, the kept string is used (its digits compared, not
 * checked again) and none is made.
 */
const lastRoot: Array<string> = keys.map(() => "")
const lastDigits: Array<Uint32Array> = keys.map((): Uint32Array => new Uint32Array(digitWords))
/** The digits of a new root, until they pass and it becomes its key's last root. */
let newDigits: Uint32Array = new Uint32Array(digitWords)

const HIGH = 0x80808080 | 0

/**
 * For each byte of `word` (each below 0x80), its high bit set if it is a hex
 * digit: the 4 bytes checked at once, without a branch per digit (whether a
 * digit is a number or a letter is random, and a branch on it mispredicts). A
 * byte plus 0x50 reaches 0x80 from "0" on and plus 0x46 from ":" on, so a
 * number has the first high bit and not the second; so has a letter from "a"
 * to "f", made lower case, with 0x1f and 0x19. No byte carries into the next.
 */
const hexLanes = (word: number): number => {
  const lower = word | 0x20202020
  return ((word + 0x50505050) & ~(word + 0x46464646)) | ((lower + 0x1f1f1f1f) & ~(lower + 0x19191919))
}

/** Whether the root in quotes at `at` has the digits `known` (none are known while they are zero). */
const isKnown = (at: number, known: Uint32Array): boolean => {
  if (known[0] === 0) return false
  for (let j = 0; j < digitWords; j++) {
    if (view.getUint32(at + 3 + 4 * j, true) !== known[j]) return false
  }
  return true
}

/**
 * The root in quotes at `at`, the value of `key`, or `undefined` if there is
 * none. A new root is made from the bytes, a string of its own: a slice of
 * `data` would keep the whole chunk it came in (16 KiB) alive for as long as
 * the head is cached.
 */
const rootOf = (at: number, key: number): string | undefined => {
  const end = at + quotedRootLength - 1
  // If the text ends first, its end (a zero) is among the digits, and no digit: the bytes left after it from
  // earlier texts can carry only into bytes after it.
  if (bytes[at] !== QUOTE || bytes[at + 1] !== ZERO || bytes[at + 2] !== LOWER_X || bytes[end] !== QUOTE) return undefined
  if (isKnown(at, lastDigits[key]!)) return lastRoot[key]
  // At an epoch's turn, the previous dependent root is what the current one was.
  if (key === PREVIOUS && isKnown(at, lastDigits[CURRENT]!)) {
    lastDigits[PREVIOUS]!.set(lastDigits[CURRENT]!)
    return lastRoot[PREVIOUS] = lastRoot[CURRENT]!
  }
  let lanes = HIGH
  for (let j = 0; j < digitWords; j++) {
    const word = view.getUint32(at + 3 + 4 * j, true)
    lanes &= hexLanes(word)
    newDigits[j] = word
  }
  if (lanes !== HIGH) return undefined
  const kept = lastDigits[key]!
  lastDigits[key] = newDigits
  newDigits = kept
  return lastRoot[key] = bytes.toString("latin1", at + 1, end)
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
