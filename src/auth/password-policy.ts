/**
 * Password complexity (security/access-control/manage-passwords/password-complexity-rules.md),
 * applied when a user is created and whenever a password is set, replaced or added. Pure.
 *
 * With `password_complexity` on, a password needs at least `password_min_length` characters
 * (8-256, default 8), an uppercase letter, a lowercase letter, a digit and a special character;
 * it may not contain the user's email address or its reverse, nor a character repeated more than
 * three times in a row. With it off, any non-empty password is accepted: the docs tie the minimum
 * length to the complexity rules ("When password complexity rules are enabled, passwords must
 * have at least 8 characters by default").
 */

export interface PasswordPolicy {
  complexity: boolean;
  minLength: number;
}

/** Why `password` is refused for a user with `email`, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string, policy: PasswordPolicy): string | undefined {
  if (password.length === 0) return 'The password must not be empty';
  if (!policy.complexity) return undefined;
  const missing: string[] = [];
  if ([...password].length < policy.minLength) missing.push(`at least ${policy.minLength} characters`);
  if (!/\p{Lu}/u.test(password)) missing.push('an uppercase letter');
  if (!/\p{Ll}/u.test(password)) missing.push('a lowercase letter');
  if (!/[0-9]/.test(password)) missing.push('a digit');
  if (!/[^\p{L}\p{N}]/u.test(password)) missing.push('a special character');
  if (missing.length) return `The password needs ${missing.join(', ')}`;
  const lower = password.toLowerCase();
  const e = email.toLowerCase();
  if (e !== '' && (lower.includes(e) || lower.includes([...e].reverse().join('')))) {
    return "The password must not contain the user's email address or its reverse";
  }
  if (/(.)\1{3}/su.test(password)) return 'The password must not repeat a character more than three times in a row';
  return undefined;
}
