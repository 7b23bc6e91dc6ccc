// The one download of an access export: the request is marked downloaded first (at the
// resourceVersion read, so of two racing downloads one wins), then the archive is streamed from
// ClickHouse and its files dropped. A download cut off midway is not repeated: the person makes a
// new access request, as the export's README says.
import type { PrivacyRequest } from '../../api/v1alpha1/privacyrequest.ts';
import { archiveName, deliverExport, downloadedPatch, exportAvailability } from '../../lib/privacy/download.ts';
import type { GatewayContext } from '../context.ts';
import { ApiError } from '../http/errors.ts';
import { operation, type Operation } from '../http/operation.ts';
import { fromKubernetes, kubernetesStatus } from '../kubernetes/errors.ts';
import { CustomResources } from '../kubernetes/resources.ts';

const ERROR = { $ref: '#/components/schemas/Error' };

export function privacyOperations(ctx: GatewayContext): Operation[] {
  let made: CustomResources | undefined;
  const requests = () => (made ??= new CustomResources(ctx.kc, ctx.namespace, 'PrivacyRequest', 'privacyrequests'));
  return [
    operation<{ name: string }>({
      id: 'downloadPrivacyExport',
      method: 'get',
      path: '/v1/privacy-requests/{name}/export',
      summary: "Download an access request's export, once (tar.gz)",
      description:
        'The archive of everything held on the person: README.md, manifest.json (every file with rows, bytes and SHA-256), person.json and stores/<table>.ndjson for each store. It can be downloaded once, until status.export.expiresAt; after that (or a second time) the answer is 410 and a new access request makes a new export.',
      tag: 'privacyrequests',
      permission: 'privacy:requests',
      audit: 'export',
      params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 63 } } },
      responses: {
        200: { description: 'The archive (application/gzip: a tar.gz).', content: { 'application/gzip': { type: 'string', format: 'binary' } } },
        404: { description: 'No such PrivacyRequest.', schema: ERROR },
        409: { description: 'Not an access request, not done yet, or failed (error.message says which).', schema: ERROR },
        410: { description: 'Downloaded already, or expired: make a new access request.', schema: ERROR },
      },
      async handler({ params: { name }, res, subject }) {
        subject(`PrivacyRequest/${name}`);
        const what = `PrivacyRequest ${name}`;
        let request: PrivacyRequest;
        try {
          request = (await requests().get(name)) as unknown as PrivacyRequest;
        } catch (err) {
          throw fromKubernetes(err, what);
        }
        const now = new Date();
        const available = exportAvailability(request, now);
        if (!available.ok) throw new ApiError(available.status, available.status === 410 ? 'gone' : 'conflict', available.reason, 'path.name');
        try {
          await requests().mergePatch(name, downloadedPatch(request.metadata.resourceVersion!, now), request.metadata.resourceVersion!);
        } catch (err) {
          if (kubernetesStatus(err) === 409) throw new ApiError(410, 'gone', `the export of ${what} is being downloaded by another call; it is downloaded once — make a new access request for another copy`, 'path.name');
          throw fromKubernetes(err, what);
        }
        res.status(200).set({ 'Content-Type': 'application/gzip', 'Content-Disposition': `attachment; filename="${archiveName(request)}"`, 'Cache-Control': 'no-store' });
        const written = await deliverExport(ctx.warehouse, request, available.export, res);
        ctx.log.info({ request: name, files: written.files, bytes: written.bytes }, 'access export downloaded and dropped');
        return 'streamed';
      },
    }),
  ];
}
