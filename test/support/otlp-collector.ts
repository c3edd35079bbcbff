import { createServer, IncomingMessage, Server } from 'http';
import type { AddressInfo } from 'net';
import { gunzipSync } from 'zlib';

/** An OTLP attribute value as OTLP/JSON encodes it. */
type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
}

interface DataPoint {
  attributes?: KeyValue[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
}

const attributes = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue))]));

/**
 * A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP with JSON
 * bodies (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) on /v1/traces and
 * /v1/metrics and keeps what it got: every span, and the latest data point
 * of each metric and attribute set (the SDK exports cumulative values).
 */
export class OtlpCollector {
  private readonly received: CollectedSpan[] = [];
  private readonly latest = new Map<string, { name: string; attributes: Record<string, unknown>; value: number }>();
  private readonly services = new Set<string>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    const collector = new OtlpCollector(server);
    server.on('request', (req, res) => {
      void readBody(req).then(
        (body) => {
          try {
            collector.accept(req.url ?? '', body.length > 0 ? JSON.parse(body.toString('utf8')) : {});
            res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          } catch (error) {
            res.writeHead(400).end(String(error));
          }
        },
        () => res.writeHead(400).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  spans(): CollectedSpan[] {
    return [...this.received];
  }

  serviceNames(): string[] {
    return [...this.services];
  }

  /** `messaging.client.consumed.messages` summed over a topic's partitions, as last exported. */
  consumedTotal(topic: string): number {
    return this.sum('messaging.client.consumed.messages', topic);
  }

  /** How many measurements a histogram holds for a topic, as last exported. */
  histogramCount(name: string, topic: string): number {
    return this.sum(name, topic);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private sum(name: string, topic: string): number {
    let total = 0;
    for (const point of this.latest.values()) {
      if (point.name === name && point.attributes['messaging.destination.name'] === topic) total += point.value;
    }
    return total;
  }

  private accept(path: string, body: Record<string, unknown[]>): void {
    if (path.startsWith('/v1/traces')) {
      for (const resource of (body.resourceSpans ?? []) as Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Omit<CollectedSpan, 'attributes'> & { attributes?: KeyValue[] }> }> }>) {
        this.noteService(resource.resource?.attributes);
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            this.received.push({ traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind, attributes: attributes(span.attributes) });
          }
        }
      }
    } else if (path.startsWith('/v1/metrics')) {
      type Metric = { name: string; sum?: { dataPoints?: DataPoint[] }; histogram?: { dataPoints?: DataPoint[] } };
      for (const resource of (body.resourceMetrics ?? []) as Array<{ resource?: { attributes?: KeyValue[] }; scopeMetrics?: Array<{ metrics?: Metric[] }> }>) {
        this.noteService(resource.resource?.attributes);
        for (const scope of resource.scopeMetrics ?? []) {
          for (const metric of scope.metrics ?? []) {
            for (const point of metric.sum?.dataPoints ?? []) this.keep(metric.name, point, Number(point.asInt ?? point.asDouble ?? 0));
            for (const point of metric.histogram?.dataPoints ?? []) this.keep(metric.name, point, Number(point.count ?? 0));
          }
        }
      }
    }
  }

  private keep(name: string, point: DataPoint, value: number): void {
    const attrs = attributes(point.attributes);
    this.latest.set(`${name} ${JSON.stringify(Object.entries(attrs).sort())}`, { name, attributes: attrs, value });
  }

  private noteService(list: KeyValue[] | undefined): void {
    const name = attributes(list)['service.name'];
    if (typeof name === 'string') this.services.add(name);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      resolve(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    });
  });
}
