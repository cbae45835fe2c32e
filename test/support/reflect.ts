// @peculiar/x509 resolves its classes through tsyringe, which needs the Reflect metadata API loaded first.
import "reflect-metadata";
