/** Kinds of request fields, generated from the spec into gen/operations.gen.ts (see scripts/gen.ts). */
export type FieldKind =
  | { readonly kind: 'string' }
  | { readonly kind: 'int64' }
  | { readonly kind: 'int32' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'message'; readonly fields: Readonly<Record<string, FieldKind>> }
  | { readonly kind: 'repeated'; readonly item: FieldKind };
