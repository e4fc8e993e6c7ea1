import type { PII_DETECTORS } from '../../../config/guardrails.js';
import { findAll, type Detector } from './types.js';

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** The Luhn checksum every payment card number carries: a 16-digit order number fails it nine times in ten. */
export function luhn(number: string): boolean {
  const d = digitsOf(number);
  if (d.length < 13 || d.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return sum % 10 === 0;
}

/** ISO 13616's check: the rearranged IBAN, letters as numbers, is 1 modulo 97. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/\s/g, '').toUpperCase();
  if (s.length < 15 || s.length > 34) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rest = (rest * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

/** A phone number has 7 to 15 digits (E.164); fewer is a version or a count. */
const phoneDigits = (s: string) => digitsOf(s).length >= 7 && digitsOf(s).length <= 15;

export const PII: Record<(typeof PII_DETECTORS)[number], Detector> = {
  email: findAll(/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g, 'email'),
  // International (+CC ...) or North American (555) 123-4567 / 555-123-4567 forms.
  phone: findAll(/(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4})\b/g, 'phone', phoneDigits),
  credit_card: findAll(/\b(?:\d[ -]?){12,18}\d\b/g, 'credit_card', luhn),
  iban: findAll(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, 'iban', ibanValid),
  us_ssn: findAll(/\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g, 'us_ssn'),
};
