import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, inertText, joinHtml, SafeHtml, valueText } from './html.js';
import { untrusted, untrustedInFull } from './views/layout.js';

const BIDI_AND_CONTROLS = /[\p{Cc}\p{Cf}]/u;

describe('html', () => {
  it('escapes every interpolated string and keeps SafeHtml as it is', () => {
    const rendered = html`<p title="${'"><script>'}">${'<b>&'}${html`<i>ok</i>`}${['<a>', html`<br>`]}${undefined}${false}</p>`;
    expect(rendered.markup).toBe(
      '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;<i>ok</i>&lt;a&gt;<br></p>',
    );
    expect(joinHtml(['<x>', html`<y>`], ', ').markup).toBe('&lt;x&gt;, <y>');
    expect(String(SafeHtml.trusted('<z>'))).toBe('<z>');
  });

  it('escapes quotes and backticks too', () => {
    expect(escapeHtml(`'"\`&<>`)).toBe('&#39;&quot;&#96;&amp;&lt;&gt;');
  });

  it('never lets untrusted text open a tag or carry a bidi or control character (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (value) => {
        const markup = untrusted(value).markup;
        const inner = markup.replace(/^<span class="untrusted( cut)?">/, '').replace(/<\/span>$/, '');
        expect(inner).not.toMatch(/[<>"'`]/);
        expect(inner).not.toMatch(BIDI_AND_CONTROLS);
        const full = untrustedInFull(value)
          .markup.replace(/^<pre class="untrusted full">/, '')
          .replace(/<\/pre>$/, '');
        expect(full).not.toMatch(/[<>"'`]/);
        expect(full.replaceAll('\n', '')).not.toMatch(BIDI_AND_CONTROLS);
      }),
    );
  });
});

describe('inertText', () => {
  it('makes bidi overrides visible', () => {
    expect(inertText('invoice\u202Egpj.exe')).toEqual({ text: 'invoice\\u202egpj.exe', cut: false });
  });

  it('cuts long text at the bound and says how much is left out', () => {
    const shown = inertText('x'.repeat(1_000), 200);
    expect(shown.cut).toBe(true);
    expect(shown.text).toBe(`${'x'.repeat(200)}… (800 more characters)`);
    expect(inertText('x'.repeat(200), 200).cut).toBe(false);
  });

  it('counts the escapes against the bound', () => {
    expect(inertText('\u202E'.repeat(100), 200).cut).toBe(true);
  });
});

describe('valueText', () => {
  it('shows strings as they are and other JSON on one line', () => {
    expect(valueText('a\nb')).toBe('a\nb');
    expect(valueText({ to: ['x', 'y'], n: 1 })).toBe('{ "to": [ "x", "y" ], "n": 1 }');
    expect(valueText(null)).toBe('null');
  });
});
