import { type AppConfig, parseConfig } from '@mz/contracts';
import { Clock, MetricsService } from '@mz/platform';
import { LlmCircuit, LlmCircuitOpenError } from './llm-circuit';

class ManualClock extends Clock {
  t = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.t);
  }
}

function setup(failures = 3, openMs = 1_000) {
  const config = { ...parseConfig({}), LLM_CIRCUIT_FAILURES: failures, LLM_CIRCUIT_OPEN_MS: openMs } as AppConfig;
  const clock = new ManualClock();
  const metrics = new MetricsService('composer');
  return { circuit: new LlmCircuit(config, clock, metrics), clock, metrics };
}

const ok = () => Promise.resolve('answer');
const boom = () => Promise.reject(new Error('503'));
const gauge = async (m: MetricsService) => (await m.registry.getSingleMetric('mz_llm_circuit_open')!.get()).values[0].value;

describe('LlmCircuit', () => {
  it('stays closed below the threshold; a success resets the count', async () => {
    const { circuit } = setup(3);
    await expect(circuit.run(boom)).rejects.toThrow('503');
    await expect(circuit.run(boom)).rejects.toThrow('503');
    await expect(circuit.run(ok)).resolves.toBe('answer');
    await expect(circuit.run(boom)).rejects.toThrow('503');
    await expect(circuit.run(boom)).rejects.toThrow('503');
    expect(circuit.state).toBe('closed');
  });

  it('opens at the threshold and then refuses without calling, with the time to the next probe', async () => {
    const { circuit, clock, metrics } = setup(2, 1_000);
    await expect(circuit.run(boom)).rejects.toThrow('503');
    await expect(circuit.run(boom)).rejects.toThrow('503');
    expect(circuit.state).toBe('open');
    expect(await gauge(metrics)).toBe(1);
    clock.t += 400;
    const call = jest.fn(ok);
    const refused = await circuit.run(call).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LlmCircuitOpenError);
    expect(refused).toMatchObject({ failureClass: 'network', retryAfterMs: 600 });
    expect(call).not.toHaveBeenCalled();
  });

  it('half-open lets exactly one probe through; its success closes the circuit', async () => {
    const { circuit, clock, metrics } = setup(1, 1_000);
    await expect(circuit.run(boom)).rejects.toThrow('503');
    clock.t += 1_000;
    expect(circuit.state).toBe('half_open');
    let release!: (v: string) => void;
    const probe = circuit.run(() => new Promise<string>((r) => (release = r)));
    // A second caller while the probe is out is refused.
    await expect(circuit.run(ok)).rejects.toBeInstanceOf(LlmCircuitOpenError);
    release('probe answered');
    await expect(probe).resolves.toBe('probe answered');
    expect(circuit.state).toBe('closed');
    expect(await gauge(metrics)).toBe(0);
    await expect(circuit.run(ok)).resolves.toBe('answer');
  });

  it('a failed probe re-opens for a full period', async () => {
    const { circuit, clock } = setup(1, 1_000);
    await expect(circuit.run(boom)).rejects.toThrow('503');
    clock.t += 1_000;
    await expect(circuit.run(boom)).rejects.toThrow('503');
    expect(circuit.state).toBe('open');
    clock.t += 999;
    await expect(circuit.run(ok)).rejects.toBeInstanceOf(LlmCircuitOpenError);
    clock.t += 1;
    await expect(circuit.run(ok)).resolves.toBe('answer');
  });
});
