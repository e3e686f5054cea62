import { describe, expect, it } from 'vitest';
import { layoutJson, type JsonTokenKind } from '../../../src/message/json-layout.js';

describe('layoutJson', () => {
  it('indents without touching number literals or key order', () => {
    expect(
      layoutJson('{"n":12345678901234567890,"a":1.0,"e":1E+2,"z":-0.0}', { indent: '  ' }),
    ).toBe('{\n  "n": 12345678901234567890,\n  "a": 1.0,\n  "e": 1E+2,\n  "z": -0.0\n}');
  });

  it('lays out nested containers and keeps empty ones closed', () => {
    const text = '{ "items" : [ {"q":2}, [] , {} ], "ok":true, "none":null }';
    expect(layoutJson(text, { indent: '  ' })).toBe(
      [
        '{',
        '  "items": [',
        '    {',
        '      "q": 2',
        '    },',
        '    [],',
        '    {}',
        '  ],',
        '  "ok": true,',
        '  "none": null',
        '}',
      ].join('\n'),
    );
  });

  it('copies strings as written, brackets and escaped quotes included', () => {
    const text = '{"s":"a \\"{[,:]}\\" \\u00e9\\\\"}';
    expect(layoutJson(text, { indent: null })).toBe(text);
    expect(JSON.parse(layoutJson(text, { indent: '  ' }))).toEqual(JSON.parse(text));
  });

  it('compacts to one line without spaces', () => {
    expect(layoutJson('{\n  "a": [1, 2],\n  "b": "x y"\n}\n', { indent: null })).toBe(
      '{"a":[1,2],"b":"x y"}',
    );
  });

  it('handles a bare value', () => {
    expect(layoutJson(' 42 ', { indent: '  ' })).toBe('42');
    expect(layoutJson('"text"', { indent: '  ' })).toBe('"text"');
  });

  it('tells keys from string values when painting', () => {
    const kinds: [JsonTokenKind, string][] = [];
    layoutJson('{"k":"v","n":[1,false]}', {
      indent: null,
      paint: (kind, token) => {
        kinds.push([kind, token]);
        return token;
      },
    });
    expect(kinds.filter(([kind]) => kind !== 'punctuation')).toEqual([
      ['key', '"k"'],
      ['string', '"v"'],
      ['key', '"n"'],
      ['number', '1'],
      ['literal', 'false'],
    ]);
  });
});
