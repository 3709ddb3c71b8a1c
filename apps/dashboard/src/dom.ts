type Child = Node | string | null | undefined | false

/** Creates an element with attributes (`undefined`/`false` left out, `true` as an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child)
  return el
}

/** The element with this id, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`index.html lacks #${id}`)
  return el as T
}

/** Shows a section's failure (or clears it with `undefined`) in its error slot. */
export function showError(slot: HTMLElement, error: unknown) {
  slot.hidden = error === undefined
  slot.textContent = error === undefined ? '' : `Could not load: ${(error as Error).message ?? String(error)}`
}

/** Says `text` to screen readers through the page's polite live region. */
export function announce(text: string) {
  const region = document.getElementById('announcer')
  if (region) region.textContent = text
}
