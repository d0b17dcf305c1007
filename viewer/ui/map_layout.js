// map_layout.js - places the services of the map in layers, callers left
// of callees (a plain Sugiyama-style layout, small enough to read):
//   1. edges that close a cycle (found by a depth-first search from the
//      services nobody calls, in name order) are set aside;
//   2. each service's layer is the longest path to it over the others;
//   3. within a layer, services are ordered by the mean position of their
//      neighbours in the layer before, then after (a few sweeps), which
//      removes most crossings.
// Self-calls (a service calling itself) take no part in the layout.

const SWEEPS = 4;

// names: service names; edges: [{parent, child}]. Returns
// {layers: [[name, ...], ...], layerOf: Map(name -> layer), back: Set(edge)}.
export function layoutLayers(names, edges) {
  const out = new Map(names.map((n) => [n, []]));
  const incoming = new Map(names.map((n) => [n, 0]));
  for (const e of edges) {
    if (e.parent === e.child) continue;
    out.get(e.parent).push(e);
    incoming.set(e.child, incoming.get(e.child) + 1);
  }
  const back = findBackEdges(names, out, incoming);
  const layerOf = longestPathLayers(names, out, back);
  const count = Math.max(0, ...layerOf.values()) + 1;
  const layers = Array.from({length: count}, () => []);
  for (const name of names) layers[layerOf.get(name)].push(name);
  orderLayers(layers, edges.filter((e) => e.parent !== e.child && !back.has(e)), layerOf);
  return {layers, layerOf, back};
}

// Iterative DFS; an edge into a service still on the stack closes a cycle.
function findBackEdges(names, out, incoming) {
  const state = new Map(); // 1 on the stack, 2 done
  const back = new Set();
  const starts = [...names.filter((n) => incoming.get(n) === 0), ...names];
  for (const start of starts) {
    if (state.has(start)) continue;
    const stack = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const edges = out.get(top[0]);
      if (top[1] === edges.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const e = edges[top[1]++];
      const s = state.get(e.child);
      if (s === 1) back.add(e);
      else if (s === undefined) {
        state.set(e.child, 1);
        stack.push([e.child, 0]);
      }
    }
  }
  return back;
}

// Kahn's topological order over the acyclic edges, layer = longest path.
function longestPathLayers(names, out, back) {
  const layerOf = new Map(names.map((n) => [n, 0]));
  const indegree = new Map(names.map((n) => [n, 0]));
  for (const edges of out.values()) for (const e of edges) if (!back.has(e)) indegree.set(e.child, indegree.get(e.child) + 1);
  const queue = names.filter((n) => indegree.get(n) === 0);
  while (queue.length) {
    const name = queue.shift();
    for (const e of out.get(name)) {
      if (back.has(e)) continue;
      layerOf.set(e.child, Math.max(layerOf.get(e.child), layerOf.get(name) + 1));
      indegree.set(e.child, indegree.get(e.child) - 1);
      if (indegree.get(e.child) === 0) queue.push(e.child);
    }
  }
  return layerOf;
}

function orderLayers(layers, edges, layerOf) {
  for (const layer of layers) layer.sort();
  const position = new Map();
  const remember = () => layers.forEach((layer) => layer.forEach((n, i) => position.set(n, i)));
  remember();
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.keys() : [...layers.keys()].reverse();
    for (const l of order) {
      const neighbours = (name) => edges
        .filter((e) => (down ? e.child === name && layerOf.get(e.parent) < l : e.parent === name && layerOf.get(e.child) > l))
        .map((e) => position.get(down ? e.parent : e.child));
      const key = new Map(layers[l].map((name, i) => {
        const ns = neighbours(name);
        return [name, ns.length ? ns.reduce((a, b) => a + b, 0) / ns.length : i];
      }));
      layers[l].sort((a, b) => key.get(a) - key.get(b) || (a < b ? -1 : 1));
      remember();
    }
  }
}
