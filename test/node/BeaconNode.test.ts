import { describe, expect, it } from "@effect/vitest"
import { Either, Equal, Hash, HashSet } from "effect"
import { inspect } from "node:util"
import * as BeaconNode from "../../src/node/BeaconNode.js"

const parsed = (input: string): BeaconNode.BeaconNode => {
  const result = BeaconNode.parse(input)
  if (Either.isLeft(result)) throw new Error(`expected ${JSON.stringify(input)} to parse: ${result.left.message}`)
  return result.right
}

const rejected = (input: string): BeaconNode.InvalidBeaconNodeUrl => {
  const result = BeaconNode.parse(input)
  if (Either.isRight(result)) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${result.right.display}`)
  return result.left
}

/** Every rendering of a node or an error that could reach a log line, a label or an API answer. */
const renderings = (value: BeaconNode.BeaconNode | BeaconNode.InvalidBeaconNodeUrl): Array<string> =>
  value instanceof BeaconNode.BeaconNode
    ? [value.display, String(value), `${value}`, JSON.stringify(value), JSON.stringify({ node: value }), inspect(value)]
    : [value.message, value.input, value.reason, String(value), JSON.stringify(value), inspect(value)]

const expectNoSecret = (value: BeaconNode.BeaconNode | BeaconNode.InvalidBeaconNodeUrl, secrets: ReadonlyArray<string>) => {
  for (const text of renderings(value)) {
    for (const secret of secrets) expect(text, `${JSON.stringify(text)} shows ${secret}`).not.toContain(secret)
  }
}

describe("BeaconNode", () => {
  describe("normalisation", () => {
    it.each([
      ["HTTP://Beacon.Example.COM:5052", "http://beacon.example.com:5052"],
      ["HtTpS://NODE.local", "https://node.local"],
      ["http://host:80", "http://host"],
      ["https://host:443", "https://host"],
      ["http://host:443", "http://host:443"],
      ["https://host:80", "https://host:80"],
      ["http://host:5052/", "http://host:5052"],
      ["http://host:5052///", "http://host:5052"],
      ["http://host:5052/lighthouse/", "http://host:5052/lighthouse"],
      ["http://host:5052/a/b//", "http://host:5052/a/b"],
      ["http://host:5052/Case/Kept", "http://host:5052/Case/Kept"],
      ["http://host:5052/path/?apikey=k&x=1", "http://host:5052/path?apikey=k&x=1"],
      ["http://host:5052?", "http://host:5052"],
      ["  http://host:5052/  ", "http://host:5052"],
      ["http://[::1]:80/", "http://[::1]"],
      ["http://127.0.0.1:5052", "http://127.0.0.1:5052"],
      ["http://User:Pw@Host:5052", "http://User:Pw@host:5052"]
    ])("%s is identified as %s", (input, id) => {
      expect(parsed(input).id).toBe(id)
    })

    it("treats two spellings of one node as one node", () => {
      const spellings = ["http://node.example:5052", "HTTP://Node.Example:5052/", "http://NODE.example:5052//"]
      const nodes = spellings.map(parsed)
      for (const node of nodes) {
        expect(node.id).toBe(nodes[0]!.id)
        expect(Equal.equals(node, nodes[0]!)).toBe(true)
        expect(Hash.hash(node)).toBe(Hash.hash(nodes[0]!))
      }
      expect(HashSet.size(HashSet.fromIterable(nodes))).toBe(1)
      expect(Equal.equals(parsed("https://node.example"), parsed("https://node.example:443/"))).toBe(true)
    })

    it("keeps nodes that differ in port, path, scheme or query apart", () => {
      const nodes = [
        "http://node.example:5052",
        "http://node.example:5053",
        "https://node.example:5052",
        "http://node.example:5052/other",
        "http://node.example:5052?apikey=a",
        "http://node.example:5052?apikey=b"
      ].map(parsed)
      expect(HashSet.size(HashSet.fromIterable(nodes))).toBe(nodes.length)
      expect(Equal.equals(nodes[4]!, nodes[5]!)).toBe(false)
    })

    it("is not equal to a non-node with the same text", () => {
      const node = parsed("http://node.example:5052")
      expect(Equal.equals(node, "http://node.example:5052")).toBe(false)
      expect(Equal.equals(node, { id: node.id, display: node.display })).toBe(false)
    })

    it("unsafeParse gives the same node and throws on bad input", () => {
      expect(Equal.equals(BeaconNode.unsafeParse("http://h:5052/"), parsed("http://h:5052"))).toBe(true)
      expect(() => BeaconNode.unsafeParse("ftp://h")).toThrow()
    })
  })

  describe("display form", () => {
    const input = "http://user:pw@host:5052/path?apikey=SECRET&x=1"

    it("keeps the id usable for requests, secrets included", () => {
      expect(parsed(input).id).toBe("http://user:pw@host:5052/path?apikey=SECRET&x=1")
    })

    it("removes the password and every query value but keeps where the node is", () => {
      const node = parsed(input)
      expect(node.display).toBe("http://user:***@host:5052/path?apikey=***&x=***")
      expectNoSecret(node, [":pw@", "SECRET", "x=1"])
    })

    it("is what String(), JSON.stringify and util.inspect show", () => {
      const node = parsed(input)
      expect(String(node)).toBe(node.display)
      expect(JSON.stringify(node)).toBe(JSON.stringify(node.display))
      expect(JSON.stringify({ nodes: [node] })).toBe(JSON.stringify({ nodes: [node.display] }))
      expect(inspect(node)).toContain(node.display)
      expect(inspect({ deep: { node } })).not.toContain("SECRET")
    })

    it.each([
      ["https://u:p%40ss%2Fword@h/", ["p%40ss", "word"]],
      ["https://u:pw@h?token=T0KEN", ["pw", "T0KEN"]],
      ["https://h/?apikey=SECRET&apikey=OTHER", ["SECRET", "OTHER"]],
      ["https://h/?BARETOKEN", ["BARETOKEN"]],
      ["https://h/?a=1&BARETOKEN&b=2", ["BARETOKEN"]],
      ["https://h/?key=a%3DSECRET", ["SECRET"]],
      ["https://h/?key=SECRET=MORE", ["SECRET", "MORE"]]
    ])("hides the secrets of %s", (url, secrets) => {
      const node = parsed(url)
      expect(node.display).toContain("***")
      expectNoSecret(node, secrets)
    })

    it.each([
      ["https://eth-mainnet.g.alchemy.com/v2/aB3dE5gH7jK9mN1pQ3sT", "https://eth-mainnet.g.alchemy.com/v2/***", ["aB3dE5gH7jK9mN1pQ3sT"]],
      ["https://x.quiknode.pro/0123456789abcdef0123456789abcdef01234567/", "https://x.quiknode.pro/***", ["0123456789abcdef"]],
      ["https://bn.example/eth/9f1c2e4a-7b3d-4e8f-a1c2-3d4e5f6a7b8c/beacon", "https://bn.example/eth/***/beacon", ["9f1c2e4a"]],
      ["https://K3yK3yK3yK3yK3yK3y@bn.example", "https://***@bn.example", ["K3yK3y"]]
    ])("hides a key in the path or the user name of %s", (url, display, secrets) => {
      const node = parsed(url)
      expect(node.display).toBe(display)
      expectNoSecret(node, secrets)
    })

    it.each([
      "https://node1.example/lighthouse",
      "https://bn.example/eth/v1",
      "https://bn.example/premium-http/eth_beacon",
      "http://beacon-node-42.internal:5052/mainnet"
    ])("keeps a path of names as it is: %s", (url) => {
      expect(parsed(url).display).toBe(url)
    })

    it("keeps a password that comes without a user name, hidden", () => {
      const node = parsed("http://:PW0RD@host:5052")
      expect(node.id).toBe("http://:PW0RD@host:5052")
      expect(node.display).toBe("http://:***@host:5052")
      expect(node.endpoint("/eth/v1/events").password).toBe("PW0RD")
    })

    it("keeps a display without secrets as it is", () => {
      expect(parsed("http://user@host:5052/eth").display).toBe("http://user@host:5052/eth")
      expect(parsed("https://Host:443/").display).toBe("https://host")
    })
  })

  describe("rejected inputs", () => {
    it.each([
      ["", "empty"],
      ["   ", "empty"],
      ["/eth/v1/events", "absolute"],
      ["localhost:5052", "absolute"],
      ["host:5052/path", "absolute"],
      ["ftp://host:21", "scheme"],
      ["ws://host:5052", "scheme"],
      ["file:///etc/passwd", "scheme"],
      ["http://host:5052/#top", "fragment"],
      ["http://host:5052/#", "fragment"],
      ["http://", "valid"],
      ["http://exa mple.com", "valid"],
      ["http://host:99999", "valid"],
      ["http://[::1", "valid"],
      ["not a url at all", "absolute"],
      ["\u0000\u0001garbage", "absolute"]
    ])("rejects %j with a reason (%s)", (input, reason) => {
      const error = rejected(input)
      expect(error._tag).toBe("InvalidBeaconNodeUrl")
      expect(error.reason).toContain(reason)
      expect(error.message).toContain(error.reason)
    })

    it("names the scheme it got", () => {
      expect(rejected("FTP://host").reason).toBe("scheme must be http or https, got ftp")
    })

    it.each([
      ["ftp://user:PW0RD@host:5052/path?apikey=S3CRET&x=V4LUE", ["PW0RD", "S3CRET", "V4LUE"]],
      ["http://user:PW0RD@host:5052/path?apikey=S3CRET#FR4G", ["PW0RD", "S3CRET", "FR4G"]],
      ["http://host/#access_token=S3CRET", ["S3CRET"]],
      ["user:PW0RD@host:5052", ["PW0RD"]],
      ["http://user:P4@SS@host/#x", ["P4@SS", "P4", "SS@"]],
      ["http://user:P4/SS@host", ["P4/SS", "P4", "SS@"]],
      ["http://user:P4#SS@host", ["P4#SS", "P4", "SS@"]],
      ["http://h st/?apikey=S3C R3T", ["S3C", "R3T"]],
      ["http://h st/?B4RETOKEN", ["B4RETOKEN"]],
      ["http://h/?k=S3CRET:x@y#f", ["S3CRET"]],
      ["ws://user:PW0RD@host?apikey=S3CRET", ["PW0RD", "S3CRET"]],
      ["ftp://node1234567890abc.example/v2/aB3dE5gH7jK9mN1pQ3sT", ["aB3dE5gH7jK9mN1pQ3sT"]]
    ])("does not show the secrets of %j in the error", (input, secrets) => {
      expectNoSecret(rejected(input), secrets)
    })

    it("still shows where the rejected input points to", () => {
      const error = rejected("ftp://user:pw@host:5052/path?apikey=SECRET")
      expect(error.input).toBe("ftp://user:***@host:5052/path?apikey=***")
      expect(rejected("ftp://node1234567890abc.example/v2/aB3dE5gH7jK9mN1pQ3sT").input).toBe(
        "ftp://node1234567890abc.example/v2/***"
      )
      expect(error.message).toBe(
        "invalid beacon node URL \"ftp://user:***@host:5052/path?apikey=***\": scheme must be http or https, got ftp"
      )
    })
  })

  describe("endpoint", () => {
    it("appends the API path to the root", () => {
      expect(parsed("http://host:5052/").endpoint("/eth/v1/events").href).toBe("http://host:5052/eth/v1/events")
    })

    it("keeps the base path and the base query", () => {
      const url = parsed("https://user:pw@host/prefix/?apikey=SECRET&x=1").endpoint("/eth/v1/events")
      expect(url.pathname).toBe("/prefix/eth/v1/events")
      expect(url.searchParams.get("apikey")).toBe("SECRET")
      expect(url.searchParams.get("x")).toBe("1")
      expect(url.username).toBe("user")
      expect(url.password).toBe("pw")
      expect(url.href).toBe("https://user:pw@host/prefix/eth/v1/events?apikey=SECRET&x=1")
    })

    it("joins with exactly one slash", () => {
      const node = parsed("http://host:5052/prefix")
      expect(node.endpoint("eth/v1/node/syncing").pathname).toBe("/prefix/eth/v1/node/syncing")
      expect(node.endpoint("/eth/v1/node/syncing").pathname).toBe("/prefix/eth/v1/node/syncing")
      expect(parsed("http://host:5052").endpoint("eth/v1/events").pathname).toBe("/eth/v1/events")
    })

    it("returns a fresh URL each time", () => {
      const node = parsed("http://host:5052?apikey=k")
      const first = node.endpoint("/eth/v1/events")
      first.searchParams.append("topics", "head")
      expect(node.endpoint("/eth/v1/events").search).toBe("?apikey=k")
      expect(node.id).toBe("http://host:5052?apikey=k")
    })
  })
})
