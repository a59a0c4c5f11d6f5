import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { SessionScope } from '@mz/contracts';

/** A browser session; the cookie holds the token, the row holds its sha256. Logout revokes. */
@Entity('app_session')
export class AppSession {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('text', { name: 'token_hash', unique: true }) tokenHash: string;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @Column('text', { name: 'user_agent', nullable: true }) userAgent: string | null;
  @Column('text', { nullable: true }) ip: string | null;
  /** full: a sign-in link from the site; settings: a letter's footer link (no admin console). */
  @Column('text', { default: 'full' }) scope: SessionScope;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
