import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LoginTokenPurpose } from '@mz/contracts';

/** A one-time login token. Only its sha256 is stored; the token itself exists only in the email. */
@Entity('login_token')
export class LoginToken {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Index() @Column('uuid', { name: 'user_id' }) userId: string;
  /** NULL until minted: login-link mails mint the token at send time so it never sits in Redis. */
  @Column('text', { name: 'token_hash', unique: true, nullable: true }) tokenHash: string | null;
  @Column('text', { default: 'login' }) purpose: LoginTokenPurpose;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('timestamptz', { name: 'used_at', nullable: true }) usedAt: Date | null;
  /** Set when the login-link mail was accepted by SMTP: the job is then a no-op (idempotent by id). */
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt: Date | null;
  /** The landing page's sign-up choice `{ topics, sendTime, timezone }`, applied when this token is confirmed (docs/architecture.md §5). */
  @Column('jsonb', { name: 'signup_choice', nullable: true }) signupChoice: { topics: string[]; sendTime: string; timezone: string } | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
