/** The data TLS policy in endpoint specs, for this build's proxy and for a legacy one kept by a manager upgrade. */
import { describe, expect, it } from 'vitest';
import { dataTlsFor, dataTlsOptions, isDefaultDataTls } from '../../src/controller/endpoint-spec.js';
import { defaultCluster } from '../../src/services/cluster-defaults.js';

const defaults = () => {
  const c = defaultCluster({ name: 'c', created_time: '', api_port: 9443 });
  return { min_data_TLS_version: c.min_data_TLS_version, data_cipher_list: c.data_cipher_list, data_cipher_suites_tls_1_3: c.data_cipher_suites_tls_1_3 };
};

describe('data TLS policy', () => {
  it('at the cluster defaults goes to this build\'s proxy, and to a legacy proxy not at all (it would refuse it)', () => {
    expect(isDefaultDataTls(defaults())).toBe(true);
    expect(isDefaultDataTls(undefined)).toBe(true);
    expect(dataTlsFor(defaults(), false)).toEqual(defaults());
    expect(dataTlsOptions(dataTlsFor(defaults(), false))).toMatchObject({ minVersion: 'TLSv1.2', ciphers: defaults().data_cipher_list });
    expect(dataTlsFor(defaults(), true)).toBeUndefined();
    expect(dataTlsOptions(dataTlsFor(defaults(), true))).toEqual({});
  });

  it('changed by an admin goes to every proxy (a legacy one is then replaced to apply it)', () => {
    for (const changed of [
      { ...defaults(), min_data_TLS_version: '1.3' as const },
      { ...defaults(), data_cipher_list: 'HIGH:!aNULL' },
      { ...defaults(), data_cipher_suites_tls_1_3: ['TLS_AES_256_GCM_SHA384'] },
    ]) {
      expect(isDefaultDataTls(changed)).toBe(false);
      expect(dataTlsFor(changed, true)).toEqual(changed);
    }
  });
});
