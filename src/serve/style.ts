/**
 * The pages' one stylesheet, inline and allowed by its hash (no other style, and no script, may
 * run): light and dark by `prefers-color-scheme`, one column on a phone.
 *
 * @module
 */
export const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--up:#1a7f37;--ok:#6b8e23;--warn:#9a6700;--down:#cf222e;--none:#8c959f;--l0:#0969da;--l1:#8250df;--l2:#bf3989;--l3:#1a7f37;--l4:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--up:#3fb950;--ok:#a5d6a7;--warn:#d29922;--down:#f85149;--none:#484f58;--l0:#4493f8;--l1:#ab7df8;--l2:#f778ba;--l3:#3fb950;--l4:#d29922}}
body{margin:0 auto;max-width:60rem;padding:1rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
a{color:var(--l0)}h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin:0}
.muted,figcaption,footer{color:var(--muted);font-size:.875rem}
.site{border-top:1px solid var(--line);padding:.75rem 0}
.state{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.8rem;font-weight:600;color:#fff;margin-left:.4rem}
.state.up{background:var(--up)}.state.down{background:var(--down)}.state.partial{background:var(--warn)}.state.unknown{background:#57606a}
.bar{width:100%;height:1.5rem;display:block;margin:.4rem 0}
rect.up{fill:var(--up)}rect.ok{fill:var(--ok)}rect.warn{fill:var(--warn)}rect.down{fill:var(--down)}rect.none{fill:var(--none)}
dl{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:0}dl div{display:flex;gap:.35rem}dt{color:var(--muted)}dd{margin:0;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid var(--line)}
.scroll{overflow-x:auto}
figure{margin:1rem 0}.chart{width:100%;height:auto}.axis{stroke:var(--line)}
.layer0{fill:var(--l0);background:var(--l0)}.layer1{fill:var(--l1);background:var(--l1)}.layer2{fill:var(--l2);background:var(--l2)}.layer3{fill:var(--l3);background:var(--l3)}.layer4{fill:var(--l4);background:var(--l4)}
.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .75rem;vertical-align:middle}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}label{display:flex;flex-direction:column;font-size:.875rem}
select,button{font:inherit;padding:.2rem .4rem}
ul.badges{list-style:none;padding:0}ul.badges li{margin:.4rem 0}img.badge{vertical-align:middle;margin-right:.5rem}
@media (max-width:40rem){body{padding:.5rem}th,td{padding:.25rem}}
`;
