/** How the open chat panel behaves as a dialog on the page: files dropped on it, focus kept in it, and its size on a phone. */
const NARROW = '(max-width: 480px)'

/** Files dropped on the panel are sent, while the conversation takes messages (the composer is shown). */
export function acceptDroppedFiles(panel: HTMLElement, composer: HTMLElement, sendFile: (file: File) => void): void {
  panel.addEventListener('dragover', (e) => {
    if (composer.hidden || !e.dataTransfer?.types.includes('Files')) return
    e.preventDefault()
    panel.classList.add('dragging')
  })
  panel.addEventListener('dragleave', (e) => e.target === panel && panel.classList.remove('dragging'))
  panel.addEventListener('drop', (e) => {
    panel.classList.remove('dragging')
    if (composer.hidden || !e.dataTransfer?.files.length) return
    e.preventDefault()
    for (const f of e.dataTransfer.files) sendFile(f)
  })
}

/** Focus stays inside the open panel; Esc closes it. */
export function trapFocus(panel: HTMLElement, root: ShadowRoot, close: () => void): void {
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      close()
    } else if (e.key === 'Tab') {
      const items = [...panel.querySelectorAll<HTMLElement>('button:not([disabled]),textarea,input:not([hidden]),a[href],[tabindex="0"]')].filter((el) => el.offsetParent !== null)
      const first = items[0]
      const last = items[items.length - 1]
      const active = root.activeElement
      if (e.shiftKey && active === first) { e.preventDefault(); last?.focus() }
      else if (!e.shiftKey && active === last) { e.preventDefault(); first?.focus() }
    }
  })
}

/** iOS: the on-screen keyboard shrinks the visual viewport, not the layout one. Returns the fit, for the panel's opening. */
export function fitToViewport(panel: HTMLElement): () => void {
  const vv = window.visualViewport
  const fitViewport = () => {
    if (!vv || panel.hidden || !matchMedia(NARROW).matches) {
      panel.style.removeProperty('height')
      return void panel.style.removeProperty('top')
    }
    panel.style.height = `${vv.height}px`
    panel.style.top = `${vv.offsetTop}px`
  }
  vv?.addEventListener('resize', fitViewport)
  vv?.addEventListener('scroll', fitViewport)
  return fitViewport
}
