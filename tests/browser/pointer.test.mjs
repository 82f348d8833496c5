// The dashboard's JSON-pointer locator and did-you-mean (dashboard/src/pointer.mjs), in
// Node: the editor marks what these return (tests/browser/dashboard.test.mjs checks the
// marks in Chromium).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, escapeSegment, locate, rangeOf } from '../../dashboard/src/pointer.mjs';

const slice = (text, r) => text.slice(r.from, r.to);

test('every value and member name of a JSON text, by RFC 6901 pointer', () => {
  const t = '{ "a": { "b": "{{ user.x }}" }, "iss": 1, "l": [1, "z", {"q": null}], "k~/": true, "u\\u0041": -1.5e3 }';
  const { spans, error } = locate(t);
  assert.equal(error, null);
  assert.equal(slice(t, spans.get('/a/b')), '"{{ user.x }}"');
  assert.equal(slice(t, rangeOf(t, '/iss', { key: true })), '"iss"');
  assert.equal(slice(t, rangeOf(t, '/iss')), '1');
  assert.equal(slice(t, spans.get('/l/1')), '"z"');
  assert.equal(slice(t, spans.get('/l/2/q')), 'null');
  assert.equal(slice(t, spans.get('/k~0~1')), 'true');
  assert.equal(slice(t, spans.get('/uA')), '-1.5e3');
  assert.equal(escapeSegment('a~b/c'), 'a~0b~1c');
  // The whole text for "" and for a pointer that is not there.
  assert.deepEqual(rangeOf(t, ''), { from: 0, to: t.length });
  assert.deepEqual(rangeOf(t, '/nope'), { from: 0, to: t.length });
});

test('text that is not JSON: where it stops', () => {
  for (const [t, pos] of [['{"a": }', 6], ['{"a": 1,}', 8], ['{"a" 1}', 5], ['[1] x', 4], ['"\\x"', 1], ['{"a": "b', 8], ['', 0]]) {
    const { error } = locate(t);
    assert.ok(error, t);
    assert.equal(error.pos, pos, t);
  }
});

test('did you mean: the nearest shortcode field, keeping a metadata path', () => {
  assert.equal(didYouMean('user.emial'), 'user.email');
  assert.equal(didYouMean('user.frist_name'), 'user.first_name');
  assert.equal(didYouMean('user.public_metdata.role'), 'user.public_metadata.role');
  assert.equal(didYouMean('user.nmae'), 'user.name');
  assert.equal(didYouMean('org.something_else'), null);
});
