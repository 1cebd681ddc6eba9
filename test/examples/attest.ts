/**
 * The README's example (section "Routing requests"): for each slot, wait for
 * the head; ask the node that saw it first for attestation data and check that
 * its `beacon_block_root` is the head; else, at a third of the slot (4 s on
 * mainnet), ask the best node for whatever head it has.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Data, Duration, Effect, Either, Layer, Option, Schema } from "effect"
import {
  BeaconNode,
  FirstSuccess,
  HeadMonitor,
  HealthPoller,
  NodeRequest,
  SlotClock,
  WaitForHead
} from "../../src/index.js"

const AttestationData = Schema.Struct({
  data: Schema.Struct({ slot: Schema.String, index: Schema.String, beacon_block_root: Schema.String })
})

class OtherRoot extends Data.TaggedError("OtherRoot")<{ readonly node: string; readonly root: string }> {
  override get message() {
    return `${this.node} attests to ${this.root}, not to the head`
  }
}

/** `GET /eth/v1/validator/attestation_data?slot=…&committee_index=0` on one node. */
const attestationData = (slot: number) => (node: BeaconNode.BeaconNode) =>
  NodeRequest.getJson(node, "/eth/v1/validator/attestation_data", AttestationData, {
    query: { slot, committee_index: 0 }
  }).pipe(Effect.map(({ data }) => ({ node: node.display, root: data.beacon_block_root })))

/** The attestation data of one slot, and how it was found. */
export const attestationFor = (slot: number) =>
  Effect.gen(function*() {
    const clock = yield* SlotClock.SlotClock
    const deadline = clock.startOf(slot) + Duration.toMillis(clock.slotDuration) / 3
    const head = yield* Effect.option(WaitForHead.waitForHead(slot, deadline))
    if (Option.isSome(head)) {
      const { block, node } = head.value
      // The node that saw the head first, then the others; only an answer for this head counts.
      const onHead = yield* Effect.either(FirstSuccess.firstSuccessOrFallback(node, (candidate) =>
        attestationData(slot)(candidate).pipe(
          Effect.filterOrFail((answer) => answer.root === block, (answer) => new OtherRoot(answer))
        )))
      if (Either.isRight(onHead)) return { ...onHead.right, slot, on: "head" as const }
      yield* Effect.logWarning("no node attests to the head, waiting for the deadline", onHead.left.message)
    }
    const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
    yield* Effect.sleep(Math.max(0, deadline - now))
    const answer = yield* FirstSuccess.firstSuccess(attestationData(slot))
    return { ...answer, slot, on: "deadline" as const }
  })

/** Every slot from now on: attestation data, logged. */
export const attestEverySlot = Effect.gen(function*() {
  const clock = yield* SlotClock.SlotClock
  while (true) {
    const slot = yield* clock.currentSlot
    yield* attestationFor(slot).pipe(
      Effect.tap((result) => Effect.logInfo("attestation data", result)),
      Effect.catchAll((error) => Effect.logError("no attestation data", error.message))
    )
    const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
    yield* Effect.sleep(clock.startOf(slot + 1) - now)
  }
})

/** Everything wired: the monitor, health polling, the slot clock read from the nodes, the `node:http` client. */
export const live = (urls: ReadonlyArray<string>) =>
  HealthPoller.layer().pipe(
    Layer.provideMerge(SlotClock.layerFromNodes()),
    Layer.provideMerge(HeadMonitor.layerNode(urls)),
    Layer.provideMerge(NodeHttpClient.layer)
  )
