import { createVerifier, type PermissionMap } from '@tessera/guard'
import { createExpressGuard } from '@tessera/guard/express'
import express, { type Express } from 'express'
import { listenNode } from '../support/listen.js'

/**
 * Which role may do what, decided by this API. Tessera only says which roles a user has
 * (the `roles` claim); routes ask for permissions, so a new role is one line here.
 */
export const PERMISSIONS: PermissionMap = {
  viewer: ['reports:read'],
  user: ['reports:read', 'reports:write'],
  admin: ['reports:read', 'reports:write', 'users:manage'],
}

export interface AdminApiOptions {
  issuer: string
  audience?: string
  permissions?: PermissionMap
}

/** A small back-office API whose routes need permissions derived from the caller's roles. */
export function buildAdminApi(options: AdminApiOptions): Express {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    permissions: options.permissions ?? PERMISSIONS,
  })
  const guard = createExpressGuard({ verifier, realm: 'back-office' })
  const reports = [{ id: 1, title: 'Revenue' }]
  const app = express()
  app.use(express.json())

  app.get('/me', guard.requireAuth(), (req, res) => {
    res.json({ user: req.auth?.sub, roles: req.auth?.roles, permissions: req.auth?.permissions })
  })

  app.get('/reports', guard.requirePermission('reports:read'), (_req, res) => {
    res.json({ reports })
  })

  app.post('/reports', guard.requirePermission('reports:write'), (req, res) => {
    const report = { id: reports.length + 1, title: String(req.body?.title ?? 'untitled') }
    reports.push(report)
    res.status(201).json(report)
  })

  // A role check where the rule really is "admins only"; permissions are the better default.
  app.delete('/users/:id', guard.requireRole('admin'), (req, res) => {
    res.json({ deleted: req.params.id, by: req.auth?.sub })
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const api = buildAdminApi({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenNode(api, Number(process.env.PORT ?? 3009))
  console.log(`09-role-based-access listening on ${url} (tokens from ${issuer})`)
}
