// The HTTPS git server lives in tools/ (the real-node demo serves its policy repository with it too).
export { startGitHttpServer, type GitHttpServer } from '../../tools/git-http/git-http-server.js';
