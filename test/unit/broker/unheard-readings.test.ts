import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../../src/broker/unheard-readings.ts';

describe('topicMatches (MQTT 3.1.1, 4.7)', () => {
  const topic = 'v1/devices/d-1/readings';
  it.each([
    ['v1/devices/d-1/readings', true],
    ['v1/devices/d-1/#', true],
    ['v1/devices/d-1/+', true],
    ['v1/devices/+/readings', true],
    ['v1/+/d-1/+', true],
    ['#', true],
    ['v1/devices/d-1/readings/#', true],
    ['v1/devices/d-1', false],
    ['v1/devices/d-1/rejections', false],
    ['v1/devices/d-1/readings/+', false],
    ['v1/devices/d-10/#', false],
    ['v1/devices/d-1/readings/x', false],
    ['+/+/+', false],
    ['v1/devices/d-1/readings ', false],
  ])('%s matches v1/devices/d-1/readings: %s', (filter, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
