/** Loading and error states shared by the views. */
import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.ts';
import { t, type MessageKey } from '../i18n.ts';
import { currentRole } from '../session.ts';

const ROLE_LABEL: Record<string, MessageKey> = {
  admin: 'roleAdmin',
  operator: 'roleOperator',
  clinician: 'roleClinician',
};

/** A sentence for an error of the API; a 403 names the role that is needed. */
export function errorText(error: unknown, needed: MessageKey = 'neededClinician'): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('networkError');
    if (error.status === 403) {
      const role = currentRole();
      return t('forbidden', { needed: t(needed), role: role && ROLE_LABEL[role] ? t(ROLE_LABEL[role]) : '?' });
    }
    if (error.status === 404) return t('notFound', { what: error.message });
    return t('genericError', { message: error.message });
  }
  return t('genericError', { message: String(error) });
}

export function Loading({ label }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label ?? t('loading')}
    </p>
  );
}

export function ErrorBox({
  error,
  needed,
  onRetry,
  children,
}: {
  error: unknown;
  needed?: MessageKey;
  onRetry?: () => void;
  children?: ComponentChildren;
}) {
  return (
    <div class="error-box" role="alert" data-testid="error">
      <p>{errorText(error, needed)}</p>
      {children}
      {onRetry && (
        <button type="button" class="button secondary" onClick={onRetry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
}
