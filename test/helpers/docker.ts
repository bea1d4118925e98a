import Docker from 'dockerode';

export const TEST_IMAGE = process.env.TEND_TEST_IMAGE ?? 'tend-test-busybox:latest';

/**
 * Whether the Docker tests can run: an engine answers at DOCKER_HOST and has the test image
 * (scripts/docker-engine.sh makes both). Under CI a missing engine is an error, not a skip.
 */
export async function dockerUnavailable(): Promise<string | null> {
  if (process.env.DOCKER_HOST === undefined || process.env.DOCKER_HOST === '') {
    return 'DOCKER_HOST is not set: run `export DOCKER_HOST=$(scripts/docker-engine.sh)` to run the Docker tests';
  }
  try {
    const engine = new Docker();
    await engine.ping();
    await engine.getImage(TEST_IMAGE).inspect();
    return null;
  } catch (error) {
    return `the Docker engine at ${process.env.DOCKER_HOST} or the image ${TEST_IMAGE} is not available: ${(error as Error).message}`;
  }
}
