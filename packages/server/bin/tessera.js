#!/usr/bin/env node
// A file that exists before the build, so npm can link the `tessera` command at install time.
import '../dist/main.js'
