import { describe, expect, it } from 'vitest';
import { generateNoteKeyPair, openNote, parseSignerKey, parseVerifierKey, signNote } from './signed-note.js';

// Published vectors of golang.org/x/mod/sumdb/note (note_test.go).
const PETER_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VERIFIER = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIGNATURE =
  '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIGNATURE =
  '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('C2SP signed notes', () => {
  it('signs the published text exactly as the Go note package does', () => {
    const signer = parseSignerKey(PETER_SIGNER);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyHash).toBe(0xc74f20a3);
    expect(signer.verifierKey).toBe(PETER_VERIFIER);
    expect(signNote(TEXT, signer)).toBe(`${TEXT}\n${PETER_SIGNATURE}`);
  });

  it('opens the published note, verifying the known key and keeping the other signature unverified', () => {
    const opened = openNote(
      `${TEXT}\n${PETER_SIGNATURE}${ENOCH_SIGNATURE}`,
      parseVerifierKey(PETER_VERIFIER),
    );
    expect(opened.text).toBe(TEXT);
    expect(opened.verified).toEqual([
      { name: 'PeterNeumann', keyHash: 0xc74f20a3, base64: expect.any(String) },
    ]);
    expect(opened.unverified.map((item) => item.name)).toEqual(['EnochRoot']);
    const both = openNote(`${TEXT}\n${PETER_SIGNATURE}${ENOCH_SIGNATURE}`, parseVerifierKey(ENOCH_VERIFIER));
    expect(both.verified.map((item) => item.name)).toEqual(['EnochRoot']);
  });

  it('refuses a note not signed by the given key with checkpoint-signature', () => {
    expect(() => openNote(`${TEXT}\n${ENOCH_SIGNATURE}`, parseVerifierKey(PETER_VERIFIER))).toThrow(
      expect.objectContaining({
        code: 'AUDIT_INVALID',
        details: expect.objectContaining({ problem: 'checkpoint-signature' }),
      }),
    );
  });

  it('refuses an altered text or signature with checkpoint-signature', () => {
    const verifier = parseVerifierKey(PETER_VERIFIER);
    const altered = `${TEXT.replace('answer', 'answers')}\n${PETER_SIGNATURE}`;
    expect(() => openNote(altered, verifier)).toThrow(/does not verify/);
    const badSignature = `${TEXT}\n${PETER_SIGNATURE.slice(0, 60)}ABCD${PETER_SIGNATURE.slice(60)}`;
    expect(() => openNote(badSignature, verifier)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ problem: 'checkpoint-signature' }) }),
    );
  });

  it('refuses malformed notes with checkpoint-invalid', () => {
    const verifier = parseVerifierKey(PETER_VERIFIER);
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIGNATURE.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIGNATURE}`,
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n${PETER_SIGNATURE}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIGNATURE.repeat(101)}`,
    ];
    for (const note of bad) {
      expect(() => openNote(note, verifier)).toThrow(
        expect.objectContaining({
          code: 'AUDIT_INVALID',
          details: expect.objectContaining({ problem: 'checkpoint-invalid' }),
        }),
      );
    }
  });

  it('refuses mangled keys with AUDIT_KEY_INVALID', () => {
    const mangled = [
      PETER_VERIFIER.slice(1),
      PETER_VERIFIER.slice(0, -1),
      PETER_VERIFIER.replace('c74f20a3', 'c74f20a4'),
      PETER_VERIFIER.replace('ARpc', 'ZRpc'),
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
      PETER_SIGNER,
    ];
    for (const key of mangled)
      expect(() => parseVerifierKey(key)).toThrow(expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }));
    for (let index = 0; index < PETER_VERIFIER.length; index++) {
      const changed =
        PETER_VERIFIER.slice(0, index) +
        String.fromCharCode(PETER_VERIFIER.charCodeAt(index) + 1) +
        PETER_VERIFIER.slice(index + 1);
      expect(() => parseVerifierKey(changed)).toThrow(expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }));
    }
    for (let index = 0; index < PETER_SIGNER.length; index++) {
      const changed =
        PETER_SIGNER.slice(0, index) +
        String.fromCharCode(PETER_SIGNER.charCodeAt(index) + 1) +
        PETER_SIGNER.slice(index + 1);
      expect(() => parseSignerKey(changed)).toThrow(expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }));
    }
    expect(() => parseSignerKey(PETER_VERIFIER)).toThrow(
      expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }),
    );
  });

  it('generates key pairs whose signatures verify and that the Go encoding round-trips', () => {
    const pair = generateNoteKeyPair('ape.example/log');
    const signer = parseSignerKey(pair.signerKey);
    expect(signer.verifierKey).toBe(pair.verifierKey);
    const verifier = parseVerifierKey(pair.verifierKey);
    const note = signNote('hello\n', signer);
    expect(openNote(note, verifier).text).toBe('hello\n');
    expect(() => openNote(note, parseVerifierKey(PETER_VERIFIER))).toThrow(/not signed by key PeterNeumann/);
  });

  it('refuses a key name with spaces or "+" and text that cannot be signed', () => {
    expect(() => generateNoteKeyPair('two words')).toThrow(
      expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }),
    );
    expect(() => generateNoteKeyPair('a+b')).toThrow(expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }));
    expect(() => generateNoteKeyPair('')).toThrow(expect.objectContaining({ code: 'AUDIT_KEY_INVALID' }));
    const signer = parseSignerKey(PETER_SIGNER);
    expect(() => signNote('abc', signer)).toThrow(expect.objectContaining({ code: 'AUDIT_INVALID' }));
    expect(() => signNote('a\n\nb\n', signer)).toThrow(expect.objectContaining({ code: 'AUDIT_INVALID' }));
  });
});
