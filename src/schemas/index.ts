/** The object registry behind GET /v1/jsonschema: the same schemas that validate requests. */
import type { TSchema } from '@sinclair/typebox';
import { Bootstrap } from './bootstrap.js';
import { Certificate } from './certificates.js';
import { Cluster } from './cluster.js';
import { ClusterSettings, CmSettings } from './cluster-settings.js';
import { License } from './license.js';
import { Node } from './node.js';

export const OBJECT_SCHEMAS: Record<string, TSchema> = {
  bootstrap: Bootstrap,
  certificates: Certificate,
  cluster: Cluster,
  cluster_settings: ClusterSettings,
  cm_settings: CmSettings,
  license: License,
  node: Node,
};
