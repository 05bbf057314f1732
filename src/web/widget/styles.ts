import { shadeAwayFrom } from './color.js'

/**
 * The panel's look: one accent colour, soft depth, readable type; 16 px inputs so iOS does not zoom.
 * `ink` is the text on the brand colour `c`, `focus` the brand colour where it shows on white.
 * Reduced motion and [hidden] need no rules here: the launcher's sheet, in the same shadow root, stops every
 * animation and hides every element with the attribute.
 */
export const panelCss = (c: string, side: 'left' | 'right', ink: string, focus: string) => `
.panel{position:fixed;bottom:92px;${side}:20px;z-index:2147483001;width:380px;height:min(640px,calc(100vh - 120px));display:flex;flex-direction:column;
background:#fff;color:#111827;border-radius:18px;overflow:hidden;box-shadow:0 24px 64px rgba(15,23,42,.28),0 2px 8px rgba(15,23,42,.08);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;animation:rise .22s ease-out;transform-origin:bottom ${side}}
@keyframes rise{from{transform:translateY(12px) scale(.98)}to{transform:none}}
header{flex:none;display:flex;align-items:center;gap:12px;padding:16px 14px 16px 18px;background:linear-gradient(135deg,${c},color-mix(in srgb,${c} 70%,${shadeAwayFrom(ink)}));color:${ink}}
.avatar{width:40px;height:40px;border-radius:50%;display:grid;place-items:center;font-weight:700;font-size:18px;background:rgba(255,255,255,.22);flex:none}
.who{flex:1;min-width:0}
h2{margin:0;font-size:17px;font-weight:650;letter-spacing:-.01em}
.who p{margin:2px 0 0;font-size:13px;display:flex;align-items:center;gap:6px}
.dot{width:8px;height:8px;border-radius:50%;background:#4ade80;box-shadow:0 0 0 2px rgba(255,255,255,.5)}
.dot.away{background:#cbd5e1}
button{font:inherit;cursor:pointer}
.icon{width:40px;height:40px;border:0;border-radius:10px;background:transparent;color:inherit;display:grid;place-items:center}
.icon:hover{background:rgba(255,255,255,.16)}
.ico{display:grid;place-items:center}
:focus-visible{outline:3px solid ${focus};outline-offset:2px}
header :focus-visible{outline-color:${ink}}
.log{flex:1;overflow-y:auto;padding:18px 16px 8px;display:flex;flex-direction:column;gap:10px;background:#f7f8fb;overscroll-behavior:contain}
.msg{display:flex;flex-direction:column;max-width:82%}
.msg.in{align-self:flex-start}
.msg.out{align-self:flex-end;align-items:flex-end}
.name{font-size:12px;color:#5b6472;margin:0 0 3px 4px}
.bubble{padding:10px 14px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;box-shadow:0 1px 2px rgba(15,23,42,.08)}
.in .bubble{border-bottom-left-radius:6px}
.out .bubble{background:${c};color:${ink};border-bottom-right-radius:6px}
.out a{color:inherit}
a{color:${c};text-decoration:underline}
.system .bubble{background:transparent;box-shadow:none;color:#5b6472;font-size:13px}
.meta{font-size:11px;color:#5b6472;margin:3px 6px 0}
.failed .bubble{background:#fee2e2;color:#991b1b}
.retry{border:0;background:none;color:#b91c1c;font-size:12px;padding:0;text-decoration:underline}
.contact{align-self:stretch;background:#fff;border:1px solid #e5e7eb;border-radius:14px;padding:12px;display:grid;grid-template-columns:1fr 1fr;gap:8px}
.contact p,.contact button{grid-column:1/-1}
.contact p,.ended p{margin:0;color:#374151;font-size:14px}
input,textarea{font-size:16px;line-height:1.4;font-family:inherit;color:#111827;border:1px solid #d1d5db;border-radius:12px;padding:10px 12px;background:#fff;box-sizing:border-box;width:100%}
input:focus,textarea:focus{outline:none;border-color:${focus};box-shadow:0 0 0 3px color-mix(in srgb,${focus} 25%,transparent)}
.primary{border:0;border-radius:12px;padding:10px 14px;background:${c};color:${ink};font-weight:600}
/* the rating form scrolls within half the panel, so the header and the conversation stay on screen when the panel is short (zoom) */
.ended{flex:none;max-height:50%;overflow-y:auto;padding:14px 16px;display:grid;gap:10px;text-align:center;border-top:1px solid #eef0f4}
.net{font-size:12px;color:#92400e;background:#fef3c7;text-align:center}
.net:empty{display:none}
.composer{flex:none;display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid #eef0f4;background:#fff}
textarea{resize:none;max-height:120px;border-radius:20px;padding:10px 16px}
.send{width:44px;height:44px;border:0;border-radius:50%;background:${c};color:${ink};display:grid;place-items:center;flex:none}
.send:hover{filter:brightness(1.08)}
.composer .attach{color:#4b5563;flex:none}
.composer .attach:hover{background:#f3f4f6}
.typing{font-size:13px;color:#374151;padding:0 18px;font-style:italic}
.typing:empty{display:none}
.seen{color:#374151}
.files{display:flex;flex-direction:column;gap:6px;margin-top:4px}
.preview img{display:block;max-width:220px;max-height:220px;border-radius:12px}
.file{display:flex;gap:8px;align-items:center;padding:10px 14px;border-radius:14px;background:#fff;color:#111827;box-shadow:0 1px 2px rgba(15,23,42,.08);text-decoration:none}
.fname{font-weight:600;overflow-wrap:anywhere}
.fsize{font-size:12px;color:#4b5563;white-space:nowrap}
progress{width:100%;accent-color:${c}}
.out .bubble.file{display:flex;flex-wrap:wrap;gap:6px 8px;background:#fff;color:#111827}
.after{display:grid;gap:10px}
.rate{display:grid;gap:8px;border:0;margin:0;padding:0}
.rate-title{font-weight:600}
.error{margin:0;color:#b91c1c;font-size:13px}
.error:empty{display:none}
.stars{display:flex;justify-content:center;gap:4px}
.star{width:44px;height:44px;border:1px solid #d1d5db;border-radius:10px;background:#fff;color:#6b7280;font-size:22px;line-height:1}
.star[aria-pressed=true]{color:#92400e;background:#fef3c7;border-color:#d97706}
.primary[disabled]{opacity:.6;cursor:default}
.link{border:0;background:none;color:#1f2937;text-decoration:underline;padding:4px}
.drop{display:none}
.dragging .drop{display:grid;place-items:center;position:absolute;inset:0;background:rgba(255,255,255,.92);border:3px dashed ${c};border-radius:18px;font-weight:600;color:#111827}
/* a phone, or a window zoomed to 200 % and more: the whole screen */
@media (max-width:480px),(max-height:500px){.panel{inset:0;width:100%;height:100%;border-radius:0;bottom:auto}}
`
