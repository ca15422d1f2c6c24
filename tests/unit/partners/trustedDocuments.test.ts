import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentHashOf, documentRefusal, parseManifest } from '../../../src/partners/trustedDocuments.js';

const doc = 'query Q { subject(id: "a", purpose: "deposit_waiver") { id } }';
const hex = createHash('sha256').update(doc).digest('hex');

describe('documentHashOf', () => {
  it.each([
    [`sha256:${hex}`, hex],
    [hex, hex],
    [hex.toUpperCase(), hex],
    [`sha1:${hex.slice(0, 40)}`, undefined],
    [hex.slice(0, 40), undefined],
    [`sha256:${hex}0`, undefined],
    ['', undefined],
  ])('%s → %s', (id, expected) => {
    expect(documentHashOf(id)).toBe(expected);
  });
});

describe('parseManifest', () => {
  it("reads the client preset's manifest, with or without the sha256: prefix", () => {
    expect(parseManifest({ [`sha256:${hex}`]: doc })).toEqual([{ hash: hex, document: doc }]);
    expect(parseManifest({ [hex]: doc })).toEqual([{ hash: hex, document: doc }]);
    expect(parseManifest({ [hex]: doc, [`sha256:${hex}`]: doc })).toEqual([{ hash: hex, document: doc }]);
  });

  it.each([
    ['an array', [doc], /must be a JSON object/],
    ['an empty object', {}, /holds no documents/],
    ['a SHA-1 manifest', { [createHash('sha1').update(doc).digest('hex')]: doc }, /not a SHA-256 hash.*hashAlgorithm: 'sha256'/],
    ['a hash of another text', { [hex]: `${doc}\n` }, /is not the SHA-256 of its document/],
    ['a document that is not a string', { [hex]: { query: doc } }, /must be a non-empty string/],
  ])('refuses %s', (_name, manifest, message) => {
    expect(() => parseManifest(manifest)).toThrow(message);
  });
});

describe('documentRefusal', () => {
  it.each([
    ['any document allowed', { trustedDocumentsOnly: false, registered: false }, undefined],
    ['registered, trusted only', { trustedDocumentsOnly: true, registered: true }, undefined],
    ['no such partner (refused elsewhere)', null, undefined],
    ['unregistered, trusted only', { trustedDocumentsOnly: true, registered: false }, 'DOCUMENT_NOT_TRUSTED'],
  ])('%s', (_name, standing, code) => {
    expect(documentRefusal(standing)?.code).toBe(code);
  });
});
