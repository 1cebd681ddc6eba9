// The live page of beacon-head-monitor: reads the admin server's feed (`/feed`, Server-Sent Events) with the admin
// API's bearer token and draws five panels. The token is asked once and kept in sessionStorage only; it is sent as
// an Authorization header, which is why the feed is read with fetch (EventSource cannot send headers).
"use strict"
;(() => {
  const tokenKey = "beacon-head-monitor.token"
  const colors = ["#3457d5", "#e0662c", "#1f8a4c", "#9c3fb8", "#c2a000", "#008b9c", "#d6336c", "#5c6b00"]
  const colorOf = (index) => colors[index % colors.length]
  const byId = (id) => document.getElementById(id)

  /** What the feed has told so far; `offset` is the server's clock minus ours. */
  const view = { offset: 0, lanes: [], arrivals: undefined, heads: undefined, events: [] }
  let chart
  let chartKey = ""

  const now = () => Date.now() + view.offset

  const age = (millis) => {
    const ms = Math.max(0, millis)
    if (ms < 1000) return `${Math.round(ms)}ms`
    if (ms < 60_000) return `${Math.floor(ms / 1000)}s`
    if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`
    if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`
    return `${Math.floor(ms / 86_400_000)}d`
  }
  const shortRoot = (root) => `${root.slice(0, 10)}…`
  const two = (n) => String(n).padStart(2, "0")
  const clockTime = (millis) => {
    const date = new Date(millis)
    return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  }

  /** An element with text or children. */
  const el = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag)
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== undefined) node.setAttribute(name, String(value))
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child))
    return node
  }
  const swatch = (index) => {
    const dot = el("span", { class: "swatch" })
    dot.style.background = colorOf(index)
    return dot
  }
  const nodeCell = (index, url) => el("td", { class: "url", title: url }, swatch(index), url)
  const fill = (tbody, rows) => tbody.replaceChildren(...rows)

  function setStatus(status, text) {
    const badge = byId("status")
    badge.dataset.status = status
    badge.textContent = text
  }

  // --- token and feed -------------------------------------------------------------------------------------------

  function askToken(message) {
    byId("login-message").textContent = message
    byId("login").hidden = false
    byId("token").focus()
  }

  byId("login").addEventListener("submit", (event) => {
    event.preventDefault()
    const token = byId("token").value.trim()
    if (token === "") return
    sessionStorage.setItem(tokenKey, token)
    byId("token").value = ""
    byId("login").hidden = true
    connect()
  })

  let retryTimer
  function retry(text, delay) {
    setStatus("error", `${text}; retrying`)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(connect, delay)
  }

  async function connect() {
    const token = sessionStorage.getItem(tokenKey)
    if (token === null) {
      setStatus("waiting", "token needed")
      return askToken("Enter the admin API token (the monitor's api-token.txt) to see the live data.")
    }
    setStatus("connecting", "connecting…")
    let response
    try {
      response = await fetch("/feed", { headers: { authorization: `Bearer ${token}` }, cache: "no-store" })
    } catch {
      return retry("cannot reach the monitor", 2000)
    }
    if (response.status === 401) {
      sessionStorage.removeItem(tokenKey)
      setStatus("refused", "wrong token")
      return askToken("Wrong token: the monitor refused it. Enter the admin API token again.")
    }
    if (!response.ok || response.body === null) {
      let message = `HTTP ${response.status}`
      try {
        message = (await response.json()).message
      } catch {}
      return retry(message, 5000)
    }
    setStatus("live", "live")
    try {
      await read(response.body)
    } catch {}
    retry("connection lost", 1000)
  }

  /** Splits the stream into events (`event:` and `data:` lines; comments, the keep-alives, ignored). */
  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ""
    while (true) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += value
      let end
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let name = "message"
        let data = ""
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim()
          else if (line.startsWith("data:")) data += line.slice(5).trim()
        }
        if (data !== "") handle(name, JSON.parse(data))
      }
    }
  }

  function handle(name, data) {
    switch (name) {
      case "snapshot":
        view.offset = data.now - Date.now()
        view.lanes = data.lanes
        view.arrivals = data.arrivals
        view.heads = data.heads
        view.events = data.events
        renderLanes()
        renderChain()
        renderEvents()
        return
      case "lane":
        if (view.lanes[data.index]?.url === data.url) view.lanes[data.index] = data
        renderLanes()
        return
      case "chain":
        view.offset = data.now - Date.now()
        view.arrivals = data.arrivals
        view.heads = data.heads
        renderChain()
        renderLanes()
        return
      case "event":
        if (view.events.some((event) => event.id >= data.id)) return
        view.events = [data, ...view.events].slice(0, 32)
        renderEvents()
        return
    }
  }

  // --- panel 1: node lanes --------------------------------------------------------------------------------------

  const reconnects = (lane) => Object.values(lane.counters.disconnects).reduce((sum, n) => sum + n, 0)

  function stateText(connection, at) {
    const since = Date.parse(connection.since)
    if (connection.state === "quiet") {
      // A quiet chain: silent past the idle limit, and the node confirmed it has no newer head.
      const silent = age(at - Date.parse(connection.silent_since))
      return `quiet, silent ${silent}, head confirmed ${age(at - Date.parse(connection.confirmed_at))} ago`
    }
    if (connection.next_attempt_at !== undefined) {
      return `${connection.state} #${connection.attempt}, retry in ${age(Date.parse(connection.next_attempt_at) - at)}`
    }
    return `${connection.state} ${age(at - since)}`
  }

  /** How far behind the first node this node saw the slot of its head. */
  function lagOf(lane) {
    if (lane.head === null || view.arrivals === undefined) return undefined
    const node = view.arrivals.nodes.find((n) => n.index === lane.index && n.url === lane.url)
    return node?.slots.find((s) => s.slot === lane.head.slot)?.behind_first_ms
  }

  function renderLanes() {
    const at = now()
    fill(byId("lanes").tBodies[0], view.lanes.map((lane) => {
      const state = el("td", { class: "state", "data-state": lane.connection.state }, stateText(lane.connection, at))
      if (lane.lagging) state.append(el("span", { class: "tag lagging" }, "lagging"))
      const head = lane.head === null
        ? el("td", { class: "head muted" }, "-")
        : el("td", { class: "head" }, `${lane.head.slot} `, el("span", { class: "root" }, shortRoot(lane.head.root)))
      const lag = lagOf(lane)
      const error = lane.last_error
      return el(
        "tr",
        { "data-index": lane.index, "data-state": lane.connection.state, "data-head": lane.head?.slot },
        el("td", {}, lane.index),
        nodeCell(lane.index, lane.url),
        state,
        head,
        el("td", { class: "num lag" }, lag === undefined ? "-" : Math.round(lag)),
        el("td", { class: "num" }, reconnects(lane)),
        el(
          "td",
          { class: error === null ? "muted" : "" },
          error === null ? "-" : `${error.reason} (${error.detail}) ${age(at - Date.parse(error.at))} ago`
        )
      )
    }))
    const slot = view.arrivals?.current_slot
    byId("slot").textContent = slot === undefined ? "" : `slot ${slot}`
  }

  // --- panels 2–4: arrivals, first seen, agreement ------------------------------------------------------------

  function renderChain() {
    if (view.arrivals === undefined) return
    renderChart(view.arrivals)
    renderDelays(view.arrivals)
    renderFirst(view.arrivals)
    renderAgreement()
  }

  /** Counts what the last draw put on the canvas, so that a reader (or a test) can tell the chart is alive. */
  function countDrawn(u) {
    let points = 0
    const slots = new Set()
    for (let s = 1; s < u.data.length - 1; s++) {
      u.data[s].forEach((value, i) => {
        if (value !== null) {
          points++
          slots.add(u.data[0][i])
        }
      })
    }
    const box = byId("arrivals")
    box.dataset.points = String(points)
    box.dataset.slots = String(slots.size)
  }

  /** Rings every late head on the canvas. */
  function ringLate(u) {
    const { ctx } = u
    ctx.save()
    ctx.strokeStyle = "#c62828"
    ctx.lineWidth = 2 * devicePixelRatio
    for (const node of view.arrivals.nodes) {
      for (const arrival of node.slots) {
        if (!arrival.late) continue
        const x = u.valToPos(Number(arrival.slot), "x", true)
        const y = u.valToPos(arrival.delay_ms, "y", true)
        ctx.beginPath()
        ctx.arc(x, y, 7 * devicePixelRatio, 0, 2 * Math.PI)
        ctx.stroke()
      }
    }
    ctx.restore()
  }

  function chartWidth() {
    return Math.max(300, byId("arrivals").clientWidth)
  }

  function renderChart(arrivals) {
    const last = Number(arrivals.current_slot)
    const slots = []
    for (let slot = Math.max(0, last - arrivals.window + 1); slot <= last; slot++) slots.push(slot)
    const perNode = arrivals.nodes.map((node) => {
      const bySlot = new Map(node.slots.map((s) => [Number(s.slot), s.delay_ms]))
      return slots.map((slot) => bySlot.get(slot) ?? null)
    })
    const data = [slots, ...perNode, slots.map(() => arrivals.deadline_ms)]
    const key = arrivals.nodes.map((n) => `${n.index} ${n.url}`).join("|")
    if (chart === undefined || key !== chartKey) {
      chart?.destroy()
      chartKey = key
      chart = new uPlot({
        width: chartWidth(),
        height: 280,
        scales: { x: { time: false }, y: { range: (_u, min, max) => [Math.min(0, min * 1.1), Math.max(max, arrivals.deadline_ms) * 1.15] } },
        axes: [{ label: "slot", incrs: [1, 2, 4, 8, 16, 32] }, { label: "ms after slot start", size: 70 }],
        legend: { live: false },
        cursor: { show: false },
        series: [
          { label: "slot" },
          ...arrivals.nodes.map((node) => ({
            label: `#${node.index} ${node.url}`,
            stroke: colorOf(node.index),
            width: 0,
            paths: () => null,
            points: { show: true, size: 7, fill: colorOf(node.index), stroke: colorOf(node.index) }
          })),
          { label: "deadline (⅓ slot)", stroke: "#c62828", width: 1, dash: [6, 4], points: { show: false } }
        ],
        hooks: { draw: [ringLate, countDrawn] }
      }, data, byId("arrivals"))
    } else {
      chart.setData(data)
    }
  }

  function renderDelays(arrivals) {
    fill(byId("delays").tBodies[0], arrivals.nodes.map((node) =>
      el(
        "tr",
        {},
        el("td", {}, node.index),
        nodeCell(node.index, node.url),
        el("td", { class: "num" }, node.delay_ms === null ? "-" : Math.round(node.delay_ms.p50)),
        el("td", { class: "num" }, node.delay_ms === null ? "-" : Math.round(node.delay_ms.p95)),
        el("td", { class: "num" }, node.late_heads.window),
        el("td", { class: "num" }, node.late_heads.total)
      )
    ))
  }

  function share(count, all) {
    const part = all === 0 ? 0 : count / all
    const bar = el("span", { class: "bar" })
    bar.style.width = `${Math.round(part * 8)}em`
    return el("td", {}, bar, `${Math.round(part * 100)}% (${count})`)
  }

  function renderFirst(arrivals) {
    const inWindow = arrivals.nodes.reduce((sum, n) => sum + n.first_seen.window, 0)
    const total = arrivals.nodes.reduce((sum, n) => sum + n.first_seen.total, 0)
    fill(byId("first").tBodies[0], arrivals.nodes.map((node) =>
      el(
        "tr",
        { "data-index": node.index },
        el("td", {}, node.index),
        nodeCell(node.index, node.url),
        share(node.first_seen.window, inWindow),
        share(node.first_seen.total, total)
      )
    ))
  }

  function renderAgreement() {
    const heads = view.heads
    if (heads === undefined) return
    const consensus = heads.consensus
    byId("consensus").textContent = consensus === null
      ? "No node has a head yet."
      : `Majority: slot ${consensus.slot}, root ${shortRoot(consensus.root)}, ${consensus.count} of ${view.lanes.length} nodes`
    const byUrl = new Map(heads.nodes.map((node) => [node.url, node]))
    fill(byId("agreement").tBodies[0], view.lanes.map((lane) => {
      const head = byUrl.get(lane.url)
      let verdict
      if (head === undefined) verdict = el("span", { class: "muted" }, "no head")
      else if (head.agrees) verdict = el("span", { class: "tag majority" }, "majority")
      else if (head.slots_behind > 0 && consensus !== null && lane.head !== null) {
        verdict = el("span", { class: "tag behind" }, `${head.slots_behind} slot${head.slots_behind === 1 ? "" : "s"} behind`)
      } else verdict = el("span", { class: "tag other" }, "other root")
      return el(
        "tr",
        { "data-index": lane.index, "data-agrees": head?.agrees ?? false },
        el("td", {}, lane.index),
        nodeCell(lane.index, lane.url),
        el("td", {}, head?.slot ?? "-"),
        el("td", { class: "root" }, head === undefined ? "-" : shortRoot(head.root)),
        el("td", {}, verdict)
      )
    }))
  }

  // --- panel 5: events ------------------------------------------------------------------------------------------

  function renderEvents() {
    fill(byId("events"), view.events.map((event) => {
      const time = el("time", {}, clockTime(event.at))
      if (event.kind === "reorg") {
        return el(
          "li",
          { "data-kind": "reorg" },
          time,
          `reorg at slot ${event.slot}, depth ${event.depth}, seen by #${event.index} ${event.node}`
        )
      }
      return el(
        "li",
        { "data-kind": "list" },
        time,
        `node list v${event.version}: ${event.nodes.length} node${event.nodes.length === 1 ? "" : "s"} (${event.nodes.join(", ")})`
      )
    }))
  }

  // Ages and retry countdowns move on between messages.
  setInterval(renderLanes, 500)
  addEventListener("resize", () => chart?.setSize({ width: chartWidth(), height: 280 }))
  connect()
})()
