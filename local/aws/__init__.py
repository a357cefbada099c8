"""The local AWS: template.yaml's resources on moto (in-process for the tests and benchmarks, moto's
server for `make local`), the template's handlers run in-process with their environment, API
Gateway (REST, payload v1), its Lambda authorizer and the Cognito token endpoint emulated, the
template's schedules fired, and the patches that make moto answer as AWS does (moto_patches and
its parts)."""
