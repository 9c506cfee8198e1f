import { describe, expect, it } from 'vitest';
import { isInsideDeviceNamespace, readingsTopic, rejectionsTopic } from '../../../src/broker/topics.ts';

describe('device topics', () => {
  it('builds the readings and rejections topics of device-protocol.md', () => {
    expect(readingsTopic('bp-cuff-0042')).toBe('v1/devices/bp-cuff-0042/readings');
    expect(rejectionsTopic('bp-cuff-0042')).toBe('v1/devices/bp-cuff-0042/rejections');
  });

  it('puts both topics inside the device namespace', () => {
    expect(isInsideDeviceNamespace('dev.1', readingsTopic('dev.1'))).toBe(true);
    expect(isInsideDeviceNamespace('dev.1', rejectionsTopic('dev.1'))).toBe(true);
  });
});

describe('isInsideDeviceNamespace', () => {
  it.each([
    'v1/devices/a',
    'v1/devices/a/#',
    'v1/devices/a/+',
    'v1/devices/a/rejections',
    'v1/devices/a/readings',
    'v1/devices/a/x/y/z',
  ])('device a may use %s', (filter) => {
    expect(isInsideDeviceNamespace('a', filter)).toBe(true);
  });

  it.each([
    // A device id that is a prefix of another must not reach the other's topics.
    'v1/devices/ab',
    'v1/devices/ab/rejections',
    'v1/devices/ab/#',
    'v1/devices/a-b/readings',
    'v1/devices/a.b/readings',
    'v1/devices/a#',
    'v1/devices/a+',
    // Wildcards over the device level or above.
    'v1/devices/+/rejections',
    'v1/devices/+',
    'v1/devices/#',
    'v1/#',
    '#',
    '+/devices/a/#',
    'v1/+/a/#',
    // Other spellings and namespaces.
    'v1/devices/A/readings',
    'v2/devices/a/readings',
    '/v1/devices/a/readings',
    'v1/devices//a/readings',
    'v1/devices',
    'v1/devices/',
    '$share/group/v1/devices/a/#',
    '$SYS/#',
    '',
  ])('device a may not use %j', (filter) => {
    expect(isInsideDeviceNamespace('a', filter)).toBe(false);
  });

  it('is not fooled by the longer id either way round', () => {
    expect(isInsideDeviceNamespace('ab', 'v1/devices/a/readings')).toBe(false);
    expect(isInsideDeviceNamespace('ab', 'v1/devices/ab/readings')).toBe(true);
  });

  it('treats regular-expression characters in a device id literally', () => {
    expect(isInsideDeviceNamespace('a.c', 'v1/devices/abc/readings')).toBe(false);
    expect(isInsideDeviceNamespace('a.c', 'v1/devices/a.c/readings')).toBe(true);
  });
});
