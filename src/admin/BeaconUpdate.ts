/**
 * Body and answer of `POST /lighthouse/beacon/update`: the same as
 * Lighthouse's validator-client API, so operators' scripts keep working.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import type { Candidates } from "../candidates/CandidateList.js"

/**
 * `{"beacon_nodes": ["http://…", …]}`: the new list, in order of preference.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateRequest = Schema.Struct({ beacon_nodes: Schema.Array(Schema.String) })

/**
 * How the body must look, for error messages.
 *
 * @since 0.1.0
 */
export const expectedShape = `{"beacon_nodes": ["http://…", …]}`

/**
 * `{"data": {"new_beacon_nodes_list": [...]}}`: the accepted list, display forms.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateResponse = Schema.Struct({
  data: Schema.Struct({ new_beacon_nodes_list: Schema.Array(Schema.String) })
})

/**
 * The answer for an accepted list.
 *
 * @since 0.1.0
 * @category constructors
 */
export const response = (accepted: Candidates): typeof UpdateResponse.Type => ({
  data: { new_beacon_nodes_list: accepted.nodes.map((node) => node.display) }
})
