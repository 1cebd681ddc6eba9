/**
 * The SSE transcripts of `../shared/fixtures/sse/` and what a correct parser
 * reports for each, in the shape of their `NAME.expected.json`.
 */
import { readdirSync, readFileSync } from "node:fs"
import type { BeaconEvent } from "../../src/events/BeaconEvent.js"

/** What a transcript holds, as its `NAME.expected.json` states it. */
export interface Summary {
  readonly heads: Array<{ readonly slot: string; readonly block: string }>
  readonly chain_reorgs: Array<{
    readonly slot: string
    readonly depth: string
    readonly old_head_block: string
    readonly new_head_block: string
  }>
  readonly optimistic_heads_skipped: number
  readonly invalid_events: number
  readonly other_events: Record<string, number>
}

export interface Fixture {
  readonly name: string
  readonly bytes: Uint8Array
  readonly expected: Summary
}

// The repository sits at <x>/main and the shared folder at <x>/shared, on every machine and in CI.
const directory = new URL("../../../shared/fixtures/sse/", import.meta.url)

/** Every `NAME.sse` with its expectation, sorted by name. */
export const fixtures: ReadonlyArray<Fixture> = readdirSync(directory)
  .filter((file) => file.endsWith(".sse"))
  .sort()
  .map((file) => {
    const name = file.slice(0, -".sse".length)
    const expected = JSON.parse(readFileSync(new URL(`${name}.expected.json`, directory), "utf8")) as Summary
    return {
      name,
      bytes: new Uint8Array(readFileSync(new URL(file, directory))),
      expected: {
        heads: expected.heads.map(({ block, slot }) => ({ slot, block })),
        chain_reorgs: expected.chain_reorgs.map(({ depth, new_head_block, old_head_block, slot }) => ({
          slot,
          depth,
          old_head_block,
          new_head_block
        })),
        optimistic_heads_skipped: expected.optimistic_heads_skipped,
        invalid_events: expected.invalid_events,
        other_events: expected.other_events
      }
    }
  })

/** Counts decoded events the way the expectation files do; optimistic heads are skipped, as the monitor does. */
export const summarise = (events: Iterable<BeaconEvent>): Summary => {
  const summary = {
    heads: [] as Array<Summary["heads"][number]>,
    chain_reorgs: [] as Array<Summary["chain_reorgs"][number]>,
    optimistic_heads_skipped: 0,
    invalid_events: 0,
    other_events: {} as Record<string, number>
  }
  for (const event of events) {
    switch (event._tag) {
      case "Head":
        if (event.data.execution_optimistic) summary.optimistic_heads_skipped++
        else summary.heads.push({ slot: String(event.data.slot), block: event.data.block })
        break
      case "ChainReorg":
        summary.chain_reorgs.push({
          slot: String(event.data.slot),
          depth: String(event.data.depth),
          old_head_block: event.data.old_head_block,
          new_head_block: event.data.new_head_block
        })
        break
      case "Other":
        summary.other_events[event.topic] = (summary.other_events[event.topic] ?? 0) + 1
        break
      case "Invalid":
        summary.invalid_events++
        break
    }
  }
  return summary
}
