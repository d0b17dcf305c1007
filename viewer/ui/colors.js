// colors.js - one colour per service, the same on every page.
//
// Colours are CSS classes (.c0 ... .c19 in app.css, each setting --svc), so
// no style is built from data. A service keeps the slot it was first given
// in this tab; app.js hands out slots in the sorted order of /api/services
// at start, so the colours are also the same from one visit to the next
// while the set of services is. Slots are taken in turn, so the first
// twenty services all differ; past twenty they repeat.

const PALETTE_SIZE = 20;
const slots = new Map();

export function registerServices(names) {
  for (const name of names) serviceColorClass(name);
}

export function serviceColorClass(name) {
  let slot = slots.get(name);
  if (slot === undefined) {
    slot = slots.size % PALETTE_SIZE;
    slots.set(name, slot);
  }
  return `c${slot}`;
}
