/**
 * The parts of MLflow 3.17.2's registry validators that look beyond the model a request names
 * (mlflow/server/auth/__init__.py), as pure functions of the request; http/authn.ts applies them:
 *
 * - validate_can_search_model_versions: a filter that selects on the `run_id` attribute (or that does
 *   not parse: MLflow assumes it might) needs the run tier not DENY'd in the workspace;
 * - validate_can_create_model_version: a `models:/<name>/…` or `models:/<name>@<alias>` source needs
 *   READ on that registered model (or prompt), which must exist; a prompt marker among the tags that
 *   disagrees with the parent model needs the other version tier not DENY'd. MLflow then requires READ
 *   on the `run_id` and `model_id` anchors, resolved in its tracking store; this registry holds no
 *   runs or logged models, so those are not checked here (documented difference).
 */
import { parseModelVersionFilter } from '../registry/search.js';
import { IS_PROMPT_TAG_KEY } from './search-filter.js';

/** _model_version_filter_selects_run: the filter names the `run_id` attribute, or does not parse. */
export function filterSelectsRun(filter: string | undefined): boolean {
  if (!filter) return false;
  try {
    return parseModelVersionFilter(filter).some((c) => c.type === 'attribute' && c.key === 'run_id');
  } catch {
    return true;
  }
}

/**
 * The registered model a `models:/` source names, as MLflow's `_parse_model_uri` reads it
 * (`models:/<name>/<version|stage|latest>`, `models:/<name>@<alias>`); undefined for any other source,
 * a `models:/<model_id>` (a logged model) or a URI `_parse_model_uri` refuses (the handler answers 400).
 */
export function sourceModelName(source: string | undefined): string | undefined {
  if (!source) return undefined;
  // urllib.parse.urlparse(uri, allow_fragments=False): leading C0/space stripped, tabs and newlines removed.
  let url = source.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  const colon = url.indexOf(':');
  if (colon <= 0 || url.slice(0, colon).toLowerCase() !== 'models') return undefined;
  url = url.slice(colon + 1);
  if (url.startsWith('//')) {
    const rest = url.slice(2);
    const m = /[/?]/.exec(rest);
    url = m ? rest.slice(m.index) : '';
  }
  if (url.includes('?')) url = url.slice(0, url.indexOf('?'));
  if (!url.startsWith('/') || url.length <= 1) return undefined;
  const parts = url.replace(/^\/+/, '').split('/');
  if (parts.length > 2 || parts[0]!.trim() === '') return undefined;
  if (parts.length === 2) return parts[1]!.trim() === '' ? undefined : parts[0];
  if (!url.includes('@')) return undefined; // models:/<model_id>
  const at = parts[0]!.lastIndexOf('@');
  if (at < 0 || parts[0]!.slice(at + 1).trim() === '') return undefined;
  return parts[0]!.slice(0, at);
}

/** _prompt_marker_in_tags: the last `mlflow.prompt.is_prompt` tag's value is "true" (any case); undefined without one. */
export function promptMarker(tags: readonly ({ key?: unknown; value?: unknown } | null | undefined)[]): boolean | undefined {
  let value: string | undefined;
  for (const t of tags) if (t?.key === IS_PROMPT_TAG_KEY) value = typeof t.value === 'string' ? t.value : '';
  return value === undefined ? undefined : value.toLowerCase() === 'true';
}
