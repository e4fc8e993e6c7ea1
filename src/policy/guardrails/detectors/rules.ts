import type { GuardrailAction, GuardrailRule } from '../../../config/types.js';
import { PII } from './pii.js';
import { SECRETS } from './secrets.js';
import { findAll, type Detector } from './types.js';

const BUILT_IN: Record<string, Detector> = { ...SECRETS, ...PII };

/** One configured rule, ready to run: its detector and what to do with what it finds. */
export interface CompiledRule {
  detect: Detector;
  action: GuardrailAction;
}

/** Keywords match case-insensitively anywhere (a block list is about words, not their spelling). */
function keyword(word: string): Detector {
  const re = new RegExp(word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  return findAll(re, 'keyword');
}

export function compileRule(rule: GuardrailRule): CompiledRule {
  if (rule.type === 'prebuilt') return { detect: BUILT_IN[rule.name]!, action: rule.action };
  if (rule.type === 'keyword') return { detect: keyword(rule.keyword), action: rule.action };
  return { detect: findAll(new RegExp(rule.pattern, 'g'), rule.name), action: rule.action };
}
