/**
 * Colours derived from the site's brand colour (`data-color`, #rgb or #rrggbb) so that any
 * colour a site picks keeps the widget readable (WCAG 2.1 AA): text on the colour reaches
 * 4.5:1, and the focus ring on the white panel 3:1.
 */

const DARK_INK = '#111827'

/** Relative luminance (WCAG 2.1) of #rgb or #rrggbb. */
function luminance(hex: string): number {
  const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (c) => c + c) : hex
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)
}

const contrast = (a: string, b: string): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

/**
 * White or a dark ink, whichever reads better on the brand colour. Mid-tones (orange, sky blue,
 * teal) need the dark one; for the few where even the page's dark grey stays under 4.5:1, black
 * (which always reaches it where white does not).
 */
export function inkOn(hex: string): string {
  if (contrast('#ffffff', hex) >= contrast('#000000', hex)) return '#ffffff'
  return contrast(DARK_INK, hex) >= 4.5 ? DARK_INK : '#000000'
}

/** The brand colour where it stands out from the white panel (3:1, enough for a focus ring or a border), else the dark ink. */
export const accentOnWhite = (hex: string): string => (contrast(hex, '#ffffff') >= 3 ? hex : DARK_INK)

/** The far end of the header's gradient: away from the ink, so the title only gains contrast along it. */
export const shadeAwayFrom = (ink: string): string => (ink === '#ffffff' ? '#000' : '#fff')
