// Package etsi holds registra's own zlint lints for the ETSI EN 319 412
// requirements that zlint does not check, one rule per file. Importing the
// package registers them with zlint's global registry under the ETSI_ESI
// source; only package ca imports it, so registration happens in one place.
package etsi
