import { EXPORT_FORMATS } from '@ape/verify';
import { describe, expect, it } from 'vitest';
import { EXPORT_FORMAT_NAMES } from './verify.js';

describe('ape verify --export', () => {
  it('offers exactly the formats @ape/verify exports, in its order', () => {
    expect([...EXPORT_FORMAT_NAMES]).toEqual([...EXPORT_FORMATS]);
  });
});
